"""Controls of an experiment: statuses (init, pretrained, trained, epoch=N) and connections switched off at test
time."""

import itertools
import re
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from dynvision.workflow.config import ConfigError, load_config
from dynvision.workflow.controls import saved_epochs, status_refusal, switch_off_parts, switch_off_setting
from dynvision.workflow.paths import file_status, status_file, switch_off_tag, tag_parts
from dynvision.workflow.provenance import REFERENCE_TRAINING, TAG_PATTERN, training_tag
from dynvision.workflow.targets import WorkflowPlan
from dynvision.workflow.validation import validate_config

from .dryrun import kind_of, snakemake

CONTROLS = "{data_loader: StimulusContrast, parameter: contrast, data_args: {tsteps: 6, stim: 3, contrast: [1.0]}"
"""An experiment of its own, so that the shipped experiments' protocols do not matter here."""


def controls(status: str, switch_off: str) -> str:
    """``--config`` value of an experiment ``controls`` testing ``status`` x ``switch_off``."""
    return f"experiment_config={{controls: {CONTROLS}, status: {status}, switch_off: {switch_off}}}}}"


TINY = ["experiment=controls", "model_name=DyRCNNx2", "model_args={rctype:full,tsteps:3,lossrt:0}", "train_images=32",
        "test_images=16", "batch_size=16", "test_batch_size=16", "data_group=one", "plots=[responses]"]  # fmt: skip


def test_switch_off_settings_are_canonical_and_round_trip_through_file_names() -> None:
    assert switch_off_parts("none") == ()
    assert switch_off_parts("skip+recurrence") == ("recurrence", "skip")
    assert switch_off_setting(("skip", "recurrence")) == "recurrence+skip" and switch_off_setting(()) == "none"
    assert switch_off_tag(()) == "" and switch_off_tag(("skip", "recurrence")) == "-norecurrence-noskip"
    for setting in ("none", "recurrence", "feedback+skip", "recurrence+feedback+skip"):
        assert switch_off_setting(tag_parts(switch_off_tag(switch_off_parts(setting)))) == setting
    message = r"^'recurrence\+skp' is unknown \(did you mean skip\?\); valid: none, recurrence, feedback, skip or"
    with pytest.raises(ValueError, match=message):
        switch_off_parts("recurrence+skp")


def test_statuses_name_the_files_training_writes() -> None:
    assert saved_epochs(10, 3) == [3, 6, 9] and saved_epochs(2, 0) == saved_epochs(2, None) == []
    assert saved_epochs(10, 3, ["init", "epoch=4", "trained", "epoch=3", "epoch=11"]) == [3, 4, 6, 9]
    assert saved_epochs(5, 0, ["epoch=1"]) == [1]
    assert status_file("m/X:tau=4_0001_embedded_trained.pt", "epoch=2") == Path("m/X:tau=4_0001_embedded_epoch=2.pt")
    with pytest.raises(ValueError, match=r"^model\.pt does not end in _<status>\.pt"):
        status_file("model.pt", "epoch=1")
    assert status_refusal("epoch=9", epochs=10) is None
    assert status_refusal("init", epochs=1) is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"epochs": 1}, "experiment_config.contrast.status: epoch=2 is never saved: training runs epochs=1"),
        ({"save_every": 1, "status": "trainde"}, "'trainde' is unknown (did you mean trained?); valid: init, "
         "pretrained, trained,"),
        ({"save_every": 1, "status": "epoch=0"}, "'epoch=0' is unknown; valid: init, pretrained, trained, "
         "epoch=N (N >= 1)"),
        ({"save_every": 1, "switch_off": "recurence"}, "experiment_config.contrast.switch_off: 'recurence' is unknown "
         "(did you mean recurrence?); valid: none, recurrence, feedback, skip or parts joined by + (recurrence+skip)"),
        ({"save_every": -1}, "config key save_every: -1 is less than the minimum of 0"),
    ],
)  # fmt: skip
def test_a_status_training_does_not_save_or_an_unknown_part_is_refused(
    config_dir: Path, overrides: dict, message: str
) -> None:
    experiment = {"status": ["init", overrides.pop("status", "epoch=2")]}
    experiment["switch_off"] = overrides.pop("switch_off", "none")
    overrides = {"epochs": 2, **overrides, "experiment_config": {"contrast": experiment}}
    with pytest.raises(ConfigError) as error:
        validate_config(load_config(config_dir, overrides), registries=False)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_tests_and_figures_of_each_status_and_switch_off_setting_have_their_own_names(
    config_dir: Path, tmp_path: Path
) -> None:
    experiment = {"status": ["init", "epoch=2", "trained"], "switch_off": ["none", "recurrence", "skip+recurrence"]}
    overrides = {"models_dir": str(tmp_path / "models"), "epochs": 4, "save_every": 2}
    config = load_config(config_dir, {**overrides, "experiment_config": {"contrast": experiment}})
    config = validate_config(config, registries=False)
    plan = WorkflowPlan(config)
    key = next(plan.models())
    trained = plan.paths.training_tag  # 4 epochs: not the reference training, so trained files carry its tag
    assert re.fullmatch(TAG_PATTERN, trained)
    statuses = ["init", f"epoch=2{trained}", f"trained{trained}"]
    assert plan.variants("contrast") == [
        (status, tag) for status in statuses for tag in ("", "-norecurrence", "-norecurrence-noskip")
    ]
    tests = [path for path in plan.test_files("contrast", key, "all") if path.endswith(".csv")]
    assert len(tests) == len(set(tests)) == 9 * len(plan.data_args("contrast"))
    stem = f"reports/{key.model_name}/{key.model_name}{key.model_args}_{key.seed}_{key.data_name}"
    variants = ("init", f"trained{trained}", f"epoch=2{trained}-norecurrence", f"trained{trained}-norecurrence-noskip")
    assert all(any(path.startswith(f"{stem}_{variant}_StimulusContrast") for path in tests) for variant in variants)
    figures = {Path(path).parent for path in plan.figures("contrast")}
    assert len(figures) == 9
    # every save_every-th epoch, and the first, which the shipped `response` experiment tests
    assert plan.epoch_models() == [plan.paths.model(f"epoch={epoch}") for epoch in (1, 2, 4)]
    # an experiment without the keys keeps the guide's names
    config = load_config(config_dir, {"models_dir": str(tmp_path / "models")})
    default = WorkflowPlan(validate_config(config, registries=False))
    assert default.variants("contrast") == [("trained", "")]
    assert default.epoch_models() == [default.paths.model("epoch=1")]
    assert all("_trained_StimulusContrast" in path for path in default.test_files("contrast", key, "all"))


@pytest.mark.integration
def test_an_experiment_on_epochs_and_switched_off_recurrence_plans_the_epoch_files(tmp_path: Path) -> None:
    plan = snakemake(tmp_path, "--config", *TINY, "epochs=2", "save_every=1",
                     controls("[init, epoch=1, trained]", "[none, recurrence]"))  # fmt: skip
    assert plan.returncode == 0, plan.stderr
    [trained] = [path for path in plan.outputs_of("train_model") if re.search(rf"_trained{TAG_PATTERN}\.pt$", path)]
    tag = re.search(rf"({TAG_PATTERN})\.pt$", trained).group(1)  # the tag of this training (2 epochs, 32 images)
    stem = trained.removesuffix(f"_trained{tag}.pt")
    models = [f"{stem}_{status}{tag}.pt" for status in ("trained", "epoch=1", "epoch=2")]
    metrics = f"logs/lightning/{Path(stem).name}{tag}/metrics.csv"
    assert sorted(plan.outputs_of("train_model")) == sorted(
        [*models, *(model.replace(".pt", ".config.yaml") for model in models), metrics]
    )
    tests = [path for path in plan.outputs_of("test_model") if kind_of(path) == "outputs"]
    variants = {Path(path).name[len(Path(stem).name) + 1 :].split("_")[0] for path in tests}
    assert variants == {
        "init",
        f"epoch=1{tag}",
        f"trained{tag}",
        "init-norecurrence",
        f"epoch=1{tag}-norecurrence",
        f"trained{tag}-norecurrence",
    }
    kinds = [kind_of(path) for path in plan.outputs_of("test_model")]
    assert kinds.count("outputs") == kinds.count("responses") == 6
    figures = [path for path in plan.outputs_of("plot") if path.endswith(".png")]  # each beside its .pdf
    assert len(figures) == 6 == len(plan.outputs_of("plot")) / 2 and all(kind_of(path) == "figure" for path in figures)


@pytest.mark.integration
def test_an_epoch_training_will_not_save_fails_before_any_job(tmp_path: Path) -> None:
    plan = snakemake(tmp_path, "--config", *TINY, "epochs=2", controls("epoch=3", "none"), dry=False)
    assert plan.returncode != 0
    line = next(line for line in plan.stderr.splitlines() if "invalid configuration" in line)
    assert line.endswith("experiment_config.controls.status: epoch=3 is never saved: training runs epochs=2")
    assert not plan.rules and not any((tmp_path / name).exists() for name in ("data", "models", "reports", "logs"))


def _logits(outputs: Path, models: Path) -> torch.Tensor:
    """The logits a test recorded in its responses file, next to the model files."""
    return torch.load(models / outputs.name.replace("_outputs.csv", "_responses.pt"), weights_only=True)["logits"]


@pytest.mark.slow
@pytest.mark.integration
def test_epochs_and_switched_off_recurrence_run_end_to_end(tmp_path: Path, data_root: Path) -> None:
    plots = "plots=[responses,training,weights,unrolling,confusion]"  # the figures of other inputs than the table
    tiny = [arg for arg in TINY if not arg.startswith("plots=")]
    statuses = controls("[init, epoch=1, trained]", "[none, recurrence]")
    run = snakemake(tmp_path, "--cores", "2", "--config", *tiny, plots, "epochs=2", "save_every=1",
                    f"data_root={data_root}", statuses, dry=False)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    models = tmp_path / "models" / "DyRCNNx2"
    tag = training_tag({**REFERENCE_TRAINING, "epochs": 2, "train_images": 32, "batch_size": 16})
    [trained] = models.glob(f"*_trained{tag}.pt")
    stem = trained.name.removesuffix(f"_trained{tag}.pt")
    weights = {}
    for status, epochs in (("init", None), ("epoch=1", 1), ("epoch=2", 2), ("trained", 2)):
        named = file_status(status, tag)
        record = yaml.safe_load((models / f"{stem}_{named}.config.yaml").read_text())
        assert (record["status"], record.get("epochs")) == (status, epochs)
        weights[status] = torch.load(models / f"{stem}_{named}.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(weights["epoch=2"][name], value) for name, value in weights["trained"].items())
    assert not all(torch.equal(weights["epoch=1"][name], weights["trained"][name]) for name in weights["trained"])
    assert not (models / "checkpoints").exists() or not any((models / "checkpoints").iterdir())

    logits, trained_as = {}, tag
    for status in ("init", "epoch=1", "trained"):
        for setting, tag in (("none", ""), ("recurrence", "-norecurrence")):
            [outputs] = (tmp_path / "reports" / "DyRCNNx2").glob(
                f"{stem}_{file_status(status, trained_as)}{tag}_StimulusContrast*_test_outputs.csv"
            )
            sidecar = yaml.safe_load(outputs.with_name(outputs.stem + ".config.yaml").read_text())
            assert (sidecar["status"], sidecar["switch_off"]) == (status, setting)
            assert sidecar["dynamics"].get("t_recurrence") == (None if tag else 2.0)
            logits[status, setting] = _logits(outputs, models)
    for status in ("init", "epoch=1", "trained"):  # the recurrence shapes the late steps of every state
        assert not torch.equal(logits[status, "none"][:, -1], logits[status, "recurrence"][:, -1])
    assert not torch.equal(logits["init", "none"], logits["epoch=1", "none"])
    assert not torch.equal(logits["epoch=1", "none"], logits["trained", "none"])

    figures = sorted((tmp_path / "reports" / "figures" / "controls").glob("controls_*"))
    assert len(figures) == 6
    for folder in figures:  # every plot drawn, the training curve only for models that trained
        expected = {"responses", "weights", "unrolling", "confusion"}
        expected |= set() if "_init" in folder.name else {"training"}
        assert {path.stem for path in folder.glob("*.png")} == expected, folder.name
    [comparison] = (tmp_path / "reports" / "figures" / "controls").glob("comparison_status-switchoff-*")
    variants = set(pd.read_csv(comparison / "measures.csv")["variant"])
    pairs = itertools.product(("init", "epoch=1", "trained"), ("none", "recurrence"))
    assert variants == {f"status={status}, switch_off={setting}" for status, setting in pairs}
    table = pd.read_csv(figures[0] / "data.csv")
    assert {"status", "switch_off"} <= set(table.columns)
    assert (tmp_path / "reports" / "experiment_controls.done").exists()
