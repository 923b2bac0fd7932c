"""Training settings in the names of trained models: runs trained differently never share a file."""

import re
from pathlib import Path

import pytest

from dynvision.workflow.config import load_config
from dynvision.workflow.paths import status_file
from dynvision.workflow.provenance import (
    REFERENCE_TRAINING,
    TAG_PATTERN,
    stimulus_tag,
    training_settings,
    training_tag,
)

from .dryrun import REPO, snakemake


def test_the_reference_is_the_shipped_defaults_and_keeps_the_guides_names() -> None:
    shipped = load_config(REPO / "configs")
    assert training_settings(shipped) == REFERENCE_TRAINING
    assert training_tag(shipped) == ""


@pytest.mark.parametrize(
    "change",
    [{"epochs": 6}, {"learning_rate": 0.01}, {"precision": "bf16-mixed"}, {"train_images": None},
     {"augmentation": "standard"}, {"batch_size": 64}, {"use_ffcv": True}, {"energy_weight": 0.1}],
)  # fmt: skip
def test_every_training_setting_changes_the_tag(change: dict) -> None:
    tag = training_tag({**REFERENCE_TRAINING, **change})
    assert re.fullmatch(TAG_PATTERN, tag)
    others = [training_tag({**REFERENCE_TRAINING, key: value}) for key, value in (("epochs", 7), ("seed", 3))]
    assert tag != others[0]
    assert others[1] == "", "settings that do not change training leave the name alone"


def test_equal_numbers_written_differently_give_one_tag() -> None:
    assert training_tag({**REFERENCE_TRAINING, "learning_rate": 1e-2}) == training_tag(
        {**REFERENCE_TRAINING, "learning_rate": 0.01}
    )
    assert training_tag({**REFERENCE_TRAINING, "epochs": 6.0}) == training_tag({**REFERENCE_TRAINING, "epochs": 6})


def test_the_epoch_files_of_a_tagged_training_carry_its_tag() -> None:
    assert status_file("m/x_0001_embedded_trained~0123abcd.pt", "epoch=2").name == "x_0001_embedded_epoch=2~0123abcd.pt"
    assert status_file("m/x_0001_embedded_trained~0123abcd.pt", "init").name == "x_0001_embedded_init.pt"
    assert status_file("m/x_0001_embedded_trained.pt", "epoch=2").name == "x_0001_embedded_epoch=2.pt"


@pytest.mark.integration
def test_two_runs_differing_only_in_epochs_leave_two_trained_models(tmp_path: Path) -> None:
    def trained(*settings: str) -> str:
        plan = snakemake(tmp_path, "--config", "experiment=contrast", *settings)
        assert plan.returncode == 0, plan.stderr
        [model] = [path for path in plan.outputs_of("train_model") if "_trained" in path and path.endswith(".pt")]
        return model

    default, longer = trained(), trained("epochs=6")
    assert default == "models/DyRCNNx4/DyRCNNx4:lossrt=10+rctype=full+tsteps=8_0001_embedded_trained.pt"
    tag = training_tag({**REFERENCE_TRAINING, "epochs": 6})
    assert longer == default.replace("_trained.pt", f"_trained{tag}.pt")
    plan = snakemake(tmp_path, "-p", "--config", "experiment=contrast", "epochs=6")
    figures = {Path(path).parent.name for path in plan.outputs_of("plot")}
    assert figures == {f"contrast_DyRCNNx4:lossrt=10+rctype=full+tsteps=8_0001_embedded_trained{tag}_all"}
    [command] = [line for line in plan.stdout.splitlines() if "--checkpoint-dir" in line]
    assert command.count(f"_0001_embedded{tag}' ") == 2  # checkpoints and Lightning logs of this training
    assert f"logs/train_model/DyRCNNx4:lossrt=10+rctype=full+tsteps=8_0001_embedded{tag}.log" in command


def test_a_stimulus_variation_is_tagged_and_equal_numbers_give_one_tag() -> None:
    assert stimulus_tag({"data_args": {}}) == ""
    tag = stimulus_tag({"data_args": {"stimms": 32}})
    assert re.fullmatch(TAG_PATTERN, tag)
    assert tag == stimulus_tag({"data_args": {"stimms": 32.0}}) != stimulus_tag({"data_args": {"stimms": 64}})


@pytest.mark.integration
def test_a_stimulus_variation_files_its_figures_beside_the_experiments_own(tmp_path: Path) -> None:
    def figure_folders(*settings: str) -> set[str]:
        plan = snakemake(tmp_path, "--config", "experiment=contrast", *settings)
        assert plan.returncode == 0, plan.stderr
        return {Path(path).parent.name for path in plan.outputs_of("plot")}

    own = "contrast_DyRCNNx4:lossrt=10+rctype=full+tsteps=8_0001_embedded_trained_all"
    assert figure_folders() == {own}
    tag = stimulus_tag({"data_args": {"stimms": 32}})
    assert figure_folders("data_args={stimms:32}") == {own + tag}
