"""The runtime commands the rules call: init-model, train-model, test-model (the viz data contract)."""

import csv
from pathlib import Path

import pytest
import torch
import yaml
from typer.testing import CliRunner

from dynvision.workflow import SNAKEFILE
from dynvision.workflow.cli import app
from dynvision.workflow.runtime import Truncated, outputs_table

runner = CliRunner()
DEFAULTS = yaml.safe_load((Path(SNAKEFILE).parents[5] / "configs" / "config_defaults.yaml").read_text())
SETTINGS = {
    "init-model": {
        "--model-args": "",
        "--seed": "0001",
        "--data-name": "embedded",
        "--no-pretrained": None,
        "--registry": DEFAULTS["weights_registry"],
    },
    "train-model": {
        "--data-name": "embedded",
        **{f"--{key.replace('_', '-')}": str(DEFAULTS[key]) for key in ("epochs", "learning_rate", "energy_weight")},
        **{f"--{key.replace('_', '-')}": str(DEFAULTS[key]) for key in ("batch_size", "precision", "devices")},
        "--strategy": DEFAULTS["strategy"],
        "--ratio": str(DEFAULTS["train_ratio"]),
        "--augmentation": DEFAULTS["augmentation"],
        "--num-workers": str(DEFAULTS["num_workers"]),
        "--threads": "1",
        "--no-ffcv": None,
        "--no-progress": None,
        "--no-freeze-pretrained": None,
    },
    "test-model": {
        "--data-args": "",
        "--switch-off": "none",
        "--data-name": "embedded",
        "--data-group": "all",
        "--batch-size": str(DEFAULTS["test_batch_size"]),
        "--record": DEFAULTS["record"],
        "--threads": "1",
        "--no-progress": None,
    },
}
"""What the rules pass from config_defaults.yaml; a test may change any of it."""


def command(name: str, *given: str, **changed: str) -> list[str]:
    """``name`` with the options ``given`` and the workflow's settings for every other option."""
    settings = {**SETTINGS[name], **{f"--{key.replace('_', '-')}": value for key, value in changed.items()}}
    settings = {flag: value for flag, value in settings.items() if flag not in given}
    return [name, *given, *(part for flag, value in settings.items() for part in (flag, value) if part is not None)]


def test_the_rules_pass_every_option_of_the_runtime_commands() -> None:
    """The commands have no defaults but --max-images, --save-epoch and --weights (which only the pretrained_model
    rule gives), and the rules give each one every option."""
    import typer.main

    rules = (Path(SNAKEFILE).parent / "snake_runtime.smk").read_text()
    group = typer.main.get_command(app)
    for name in ("init-model", "train-model", "test-model"):
        options = [p for p in group.commands[name].params if p.name != "help"]
        assert {p.name for p in options if not p.required} <= {"max_images", "save_epoch", "weights"}, name
        pretrained = rules[rules.index("rule pretrained_model") :].split("\n\n\n")[0]
        assert "--weights {params.weights:q}" in pretrained
        shell = rules[rules.index(f"{{WORKFLOW_CLI}} {name}") :].split("\n\n")[0]
        for param in options:
            flag = param.opts[0]
            if param.name == "weights":
                continue
            assert flag in shell or f"params.{param.name}" in shell, (name, flag)


def test_snakefile_command() -> None:
    result = runner.invoke(app, ["snakefile"])
    assert result.exit_code == 0
    assert Path(result.output.strip()) == SNAKEFILE and SNAKEFILE.is_file()


def test_check_config_prints_merged_config(config_dir: Path) -> None:
    result = runner.invoke(
        app, ["check-config", "--config-dir", str(config_dir), "seed=0001", "model_args={rctype:self}"]
    )
    assert result.exit_code == 0, result.output
    config = yaml.safe_load(result.output)
    assert config["seed"] == "0001" and config["model_args"]["rctype"] == "self"


def test_check_config_bad_value(config_dir: Path) -> None:
    result = runner.invoke(app, ["check-config", "--config-dir", str(config_dir), "experiment=nope"])
    assert result.exit_code == 1
    assert "unknown experiment 'nope'; valid choices: contrast" in result.output


def test_malformed_model_args_option(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        command(
            "init-model",
            "--model-name",
            "DyRCNNx2",
            "--model-args",
            "rctype=full",
            "--output",
            str(tmp_path / "m.pt"),
            data_root=str(tmp_path),
        ),
    )
    assert result.exit_code == 2
    assert "malformed argument string" in result.output
    assert not (tmp_path / "m.pt").exists()


def test_unknown_model_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(
        app, command("init-model", "--model-name", "NoNet", "--output", str(tmp_path / "m.pt"), data_root=str(tmp_path))
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "NoNet" in result.output
    assert not (tmp_path / "m.pt").exists()


def test_outputs_table_contract() -> None:
    logits = torch.tensor([[[2.0, 0.0], [0.0, 2.0], [0.0, 2.0]]])
    labels = torch.tensor([[-1, 1, 1]])
    table = outputs_table(logits, labels, offset=5)
    assert list(table["sample_index"]) == [5, 5, 5]
    assert list(table["times_index"]) == [0, 1, 2]
    assert list(table["label_index"]) == [-1, 1, 1]
    assert list(table["guess_index"]) == [0, 1, 1]
    assert list(table["first_label_index"]) == [1, 1, 1]
    assert table["first_label_confidence"][0] == pytest.approx(torch.softmax(torch.tensor([2.0, 0.0]), 0)[1].item())


def test_truncated_loader() -> None:
    loader = [(i, i) for i in range(10)]
    assert len(Truncated(loader, None, 4)) == 10
    assert len(Truncated(loader, 9, 4)) == 3 and len(list(Truncated(loader, 9, 4))) == 3


def _init_model(tmp_path: Path, data_root: Path) -> Path:
    init = tmp_path / "models" / "DyRCNNx2:rctype=self+tsteps=3_0001_embedded_init.pt"
    result = runner.invoke(
        app,
        command("init-model", "--model-name", "DyRCNNx2", "--model-args", ":rctype=self+tsteps=3",
                "--output", str(init), "--data-root", str(data_root), "--data-name", "embedded"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return init


@pytest.mark.parametrize("rank", [0, 1])
def test_train_model_passes_devices_and_strategy_and_only_rank_zero_writes(
    tmp_path: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch, rank: int
) -> None:
    """--devices/--strategy reach Lightning's train(); under DDP only the process of rank 0 writes the file."""
    from pytorch_lightning.utilities import rank_zero_only

    from dynvision.models import training

    seen = {}

    def recording_train(model, train_loader, val_loader=None, **kwargs):
        seen.update(kwargs)
        return model

    monkeypatch.setattr(training, "train", recording_train)
    monkeypatch.setattr(rank_zero_only, "rank", rank, raising=False)
    init = _init_model(tmp_path, data_root)
    trained = init.with_name(init.name.replace("_init", "_trained"))
    result = runner.invoke(
        app,
        command("train-model", "--input", str(init), "--output", str(trained), "--checkpoint-dir",
                str(tmp_path / "ckpt"), "--log-dir", str(tmp_path / "lightning"), "--max-images", "16",
                "--batch-size", "16", "--no-progress",
                "--data-root", str(data_root), "--devices", "2", "--strategy", "ddp"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert seen["devices"] == "2" and seen["strategy"] == "ddp"
    assert trained.exists() == (rank == 0)
    assert ("wrote" in result.output) == (rank == 0)


def test_train_model_augments_only_the_train_loader_and_records_the_preset(
    tmp_path: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dynvision.data.augment import AugmentedBatches
    from dynvision.models import training

    seen = {}

    def recording_train(model, train_loader, val_loader=None, **kwargs):
        seen.update(train=train_loader.loader, val=val_loader.loader)
        return model

    monkeypatch.setattr(training, "train", recording_train)
    init = _init_model(tmp_path, data_root)
    trained = init.with_name(init.name.replace("_init", "_trained"))
    result = runner.invoke(
        app,
        command("train-model", "--input", str(init), "--output", str(trained), "--checkpoint-dir",
                str(tmp_path / "ckpt"), "--log-dir", str(tmp_path / "lightning"), "--max-images", "16",
                "--batch-size", "16", "--data-root", str(data_root), "--augmentation", "standard"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert isinstance(seen["train"], AugmentedBatches) and seen["train"].preset == "standard"
    assert not isinstance(seen["val"], AugmentedBatches)
    assert yaml.safe_load(trained.with_name(trained.stem + ".config.yaml").read_text())["augmentation"] == "standard"

    result = runner.invoke(
        app,
        command("train-model", "--input", str(init), "--output", str(tmp_path / "out.pt"), "--checkpoint-dir",
                str(tmp_path / "ckpt"), "--log-dir", str(tmp_path / "lightning"), "--data-root", str(data_root),
                "--augmentation", "heavy"),
    )  # fmt: skip
    assert result.exit_code != 0
    assert "unknown augmentation 'heavy'; valid choices: none, standard, strong" in result.output


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--strategy", "dpp"], "strategy='dpp' is unknown; valid: auto, ddp"),
        (["--save-epoch", "1", "--save-epoch", "9"],
         f"save_epoch=9 is not an epoch of this training (1 to epochs={DEFAULTS['epochs']})"),
    ],
)  # fmt: skip
def test_train_model_refuses_a_bad_option_in_one_line(tmp_path: Path, data_root: Path, option, message) -> None:
    init = _init_model(tmp_path, data_root)
    result = runner.invoke(
        app,
        command("train-model", "--input", str(init), "--output", str(tmp_path / "m_trained.pt"), "--checkpoint-dir",
                str(tmp_path / "ckpt"), "--log-dir", str(tmp_path / "lightning"), "--data-root", str(data_root),
                *option),
    )  # fmt: skip
    assert result.exit_code != 0
    assert message in result.output
    assert not (tmp_path / "m_trained.pt").exists()


@pytest.mark.slow
@pytest.mark.integration
def test_init_train_test_write_the_viz_contract(tmp_path: Path, data_root: Path) -> None:
    from dynvision.viz.contract import check_output_columns, load_responses, load_sidecar, read_header

    init = tmp_path / "models" / "DyRCNNx2:rctype=self+tsteps=3_0001_embedded_init.pt"
    common = ["--data-root", str(data_root), "--data-name", "embedded"]
    result = runner.invoke(
        app,
        command(
            "init-model",
            "--model-name",
            "DyRCNNx2",
            "--model-args",
            ":rctype=self+tsteps=3",
            "--output",
            str(init),
            *common,
        ),
    )
    assert result.exit_code == 0, result.output
    trained = init.with_name(init.name.replace("_init", "_trained"))
    checkpoints = tmp_path / "checkpoints"
    result = runner.invoke(
        app,
        command("train-model", "--input", str(init), "--output", str(trained), "--checkpoint-dir", str(checkpoints),
                "--log-dir", str(tmp_path / "lightning"), "--epochs", "1", "--batch-size", "16", "--max-images", "32",
                "--no-progress", *common),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert not checkpoints.exists()  # only an interrupted run keeps its checkpoints
    trained_config = yaml.safe_load(trained.with_name(trained.stem + ".config.yaml").read_text())
    assert trained_config["status"] == "trained"
    assert set(trained_config["dynamics"]) == {"dt", "tau", "t_feedforward", "t_recurrence", "first_response_step"}

    stem = "DyRCNNx2:rctype=self+tsteps=3_0001_embedded_trained_StimulusContrast:tsteps=4+stim=2+contrast=0.5_one"
    responses = tmp_path / "models" / f"{stem}_test_responses.pt"
    outputs = tmp_path / "reports" / f"{stem}_test_outputs.csv"
    result = runner.invoke(
        app,
        command("test-model", "--input", str(trained), "--data-loader", "StimulusContrast",
                "--data-args", ":tsteps=4+stim=2+contrast=0.5", "--data-group", "one", "--batch-size", "8",
                "--max-images", "12", "--responses", str(responses), "--outputs", str(outputs), "--no-progress",
                *common),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    check_output_columns(outputs, read_header(outputs))
    data = load_responses(responses)
    assert data is not None
    raw = torch.load(responses, weights_only=True)
    assert raw["format"] == 1 and raw["logits"].dtype == torch.float16
    assert raw["labels"].shape == (16, 4)  # 2 batches of 8 images, 4 frames
    assert set(raw["responses"]) == set(raw["areas"])
    for path in (responses, outputs):
        sidecar = load_sidecar(path)
        assert sidecar["data_args"] == {"tsteps": 4, "stim": 2, "contrast": 0.5}
        assert sidecar["seed"] == "0001" and sidecar["data_group"] == "one" and sidecar["n_timesteps"] == 4
        assert sidecar["n_classes"] == 10 and sidecar["class_names"][:2] == ["disk", "square"]  # chance 0.1
        dynamics = sidecar["dynamics"]  # resolved from the model's defaults, not only from its file name
        assert dynamics["t_feedforward"] == 2.0 and dynamics["first_response_step"]["V1"] == 1
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.slow
def test_an_interrupted_train_model_resumes_from_its_last_checkpoint(
    tmp_path: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """What `--rerun-incomplete` relies on: the checkpoints of a run that died survive, and the rerun restores them."""
    import dynvision.models.io

    init = tmp_path / "DyRCNNx2:tsteps=4_0001_embedded_init.pt"
    common = ["--data-root", str(data_root), "--data-name", "embedded"]
    args = command(
        "init-model", "--model-name", "DyRCNNx2", "--model-args", ":tsteps=4", "--output", str(init), *common
    )[1:]
    assert runner.invoke(app, ["init-model", *args]).exit_code == 0
    trained = tmp_path / "DyRCNNx2:tsteps=4_0001_embedded_trained.pt"
    checkpoints = tmp_path / "checkpoints"
    train = command("train-model", "--input", str(init), "--output", str(trained), "--checkpoint-dir",
                    str(checkpoints), "--log-dir", str(tmp_path / "lightning"), "--epochs", "1", "--batch-size", "16",
                    "--max-images", "32", "--no-progress", *common)  # fmt: skip

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the job dies after training, before its output exists

    with monkeypatch.context() as patch:
        patch.setattr(dynvision.models.io, "save_model_file", killed)
        runner.invoke(app, train)
    assert not trained.exists()
    assert (checkpoints / "last.ckpt").is_file()

    with caplog.at_level("INFO"):
        result = runner.invoke(app, train)
    assert result.exit_code == 0, result.output
    assert trained.is_file() and not checkpoints.exists()
    assert any("Restoring states from the checkpoint" in record.getMessage() for record in caplog.records)
    assert "train_loss_epoch" in (tmp_path / "lightning" / "metrics.csv").read_text(), "the first run's log is kept"


class Killed(Exception):
    """Stands for kill -9 of a training job."""


@pytest.mark.slow
def test_a_run_killed_while_writing_a_checkpoint_resumes_to_the_weights_of_an_uninterrupted_one(
    tmp_path: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data order (shuffled, augmented) of every epoch is restored, so the resumed run ends where a straight one
    does: equal weights and the same metrics log."""
    from pytorch_lightning.plugins.io import TorchCheckpointIO

    from dynvision.models.io import load_model_file

    common = ["--data-root", str(data_root), "--data-name", "embedded"]
    init = tmp_path / "DyRCNNx2:tsteps=4_0001_embedded_init.pt"
    args = command("init-model", "--model-name", "DyRCNNx2", "--model-args", ":tsteps=4", "--output", str(init),
                   *common)[1:]  # fmt: skip
    assert runner.invoke(app, ["init-model", *args]).exit_code == 0

    def train(run: str) -> list[str]:
        return command("train-model", "--input", str(init), "--output", str(tmp_path / run / init.name),
                       "--checkpoint-dir", str(tmp_path / run / "ckpt"), "--log-dir", str(tmp_path / run / "log"),
                       "--epochs", "3", "--batch-size", "16", "--max-images", "48", "--augmentation", "standard",
                       "--no-progress", *common)  # fmt: skip

    assert runner.invoke(app, train("straight")).exit_code == 0
    save = TorchCheckpointIO.save_checkpoint

    def dies_at_epoch_two(self, checkpoint, *args, **kwargs):
        if checkpoint["epoch"] == 1:  # the checkpoint of the second epoch is never written
            raise Killed
        return save(self, checkpoint, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(TorchCheckpointIO, "save_checkpoint", dies_at_epoch_two)
        assert isinstance(runner.invoke(app, train("resumed")).exception, Killed)
    assert (tmp_path / "resumed" / "ckpt" / "last.ckpt").is_file()
    assert runner.invoke(app, train("resumed")).exit_code == 0

    (straight, _), (resumed, _) = (load_model_file(tmp_path / run / init.name) for run in ("straight", "resumed"))
    for name, weights in straight.state_dict().items():
        assert torch.equal(weights, resumed.state_dict()[name]), name

    def logged(run: str) -> list[tuple[str, ...]]:
        with open(tmp_path / run / "log" / "metrics.csv") as f:
            return [(r["epoch"], r["step"], r["train_loss_epoch"], r["val_loss"]) for r in csv.DictReader(f)]

    assert logged("resumed") == logged("straight")


def test_validation_accuracy_scores_the_last_step_the_loss_scores() -> None:
    """A held image is shown as in training (pattern 10: steps 0-1 shown, 2-3 blank): the guess at step 1 counts."""
    from dynvision.models import create_model
    from dynvision.workflow.runtime import accuracy

    torch.manual_seed(0)
    model = create_model("DyRCNNx2", tsteps=4, pattern="10").eval()
    images, labels = torch.randn(6, 3, 16, 16), torch.arange(6)
    with torch.no_grad():
        logits = model(images)
    expected = (logits[:, 1].argmax(-1) == labels).float().mean().item()
    assert accuracy(model, [(images, labels)]) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-n", "--config", "epochs"], "--config entry 'epochs' is not name=value (e.g. epochs=5); targets go before"),
        (["-n", "--config", "1epochs=3"], "--config entry '1epochs=3' is not name=value"),
        (["-n", "--config", "epochs=2", "experiment"], "--config entry 'experiment' is not name=value"),
        (["-n", "--configfile", "missing.yaml"], "--configfile missing.yaml does not exist"),
    ],
)
def test_run_refuses_what_snakemake_would_answer_with_a_traceback(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["run", *args])
    assert result.exit_code == 2
    assert result.output.strip() == f"Error: {message}" or message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_run_passes_good_config_entries_on() -> None:
    from dynvision.workflow.cli import snakemake_args_refusal

    args = ["-j1", "experiment", "--config", "model_args={rctype:[full,self]}", "epochs=2", "-n"]
    assert snakemake_args_refusal(args) is None
