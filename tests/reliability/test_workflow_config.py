"""Bad --config values and config-file mistakes: refused by the dry run, before any job, naming the value."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from .catalogue import REPO, assert_refused, files_in, run

SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "-n"]

CONFIG_VALUES = [
    # (--config entries, fragments the one error line must hold)
    (["learning_rate=inf"], ("learning_rate", "inf")),
    (["learning_rate=nan"], ("learning_rate", "nan")),
    (["learning_rate=-0.1"], ("learning_rate", "-0.1")),
    (["energy_weight=nan"], ("energy_weight", "nan")),
    (["train_ratio=nan"], ("train_ratio", "nan")),
    (["train_ratio=1.5"], ("train_ratio", "1.5")),
    (["epochs=2.0"], ("epochs", "2.0")),
    (["epochs=0"], ("epochs", "0")),
    (["epochs=five"], ("epochs", "five")),
    (["batch_size=32.0"], ("batch_size", "32.0")),
    (["test_images=16.0"], ("test_images", "16.0")),
    (["seed=-1"], ("seed", "-1")),
    (["seed=[1,abc]"], ("seed", "abc")),
    (["strategy=ddpx"], ("strategy", "ddpx")),
    (["precision=15-mixed"], ("precision", "15-mixed")),
    (["use_ffcv=maybe"], ("use_ffcv", "maybe")),
    (["num_workers=-1"], ("num_workers", "-1")),
    (["augmentation=extreme"], ("augmentation", "extreme")),
    (["record=everything"], ("record", "everything")),
    (["model_args={tsteps:2.5}"], ("tsteps", "2.5")),
    (["model_args={tsteps:true}"], ("tsteps", "true")),
    (["model_args={tsteps:100000000}"], ("tsteps", "100000000")),
    (["model_args={rctype:fulll}"], ("rctype", "fulll")),
    (["model_args={rctpe:full}"], ("rctpe", "did you mean")),
    (["model_args={tau:-5}"], ("tau", "-5")),
    (["model_args={rctype:full"], ("model_args", "{rctype:full")),
    (["model_args={rctype:__import__('os')}x"], ("model_args", "__import__")),
    (["model_name=DyRCNNx5"], ("DyRCNNx5", "did you mean")),
    (["model_name=[DyRCNNx4,Nope]"], ("Nope", "valid choices")),
    (["experiment=contrst"], ("contrst", "did you mean contrast")),
    (["data_name=cifar1000"], ("cifar1000", "did you mean")),
    (["data_group=dsik"], ("dsik", "valid choices")),
    (["data_args={contrastt:0.5}"], ("contrastt",)),
    (["experiment_config={}"], ("experiment_config",)),
    (["models_dir=../.."], ("models_dir", "../..")),
    (["reports_dir=/tmp/elsewhere"], ("reports_dir", "/tmp/elsewhere")),
    (["devices=abc"], ("devices", "'abc'", "auto or an integer")),
    (["experiment=contrast,duration"], ("'contrast,duration'", "as a list")),
    (["model_args={tsteps:-3}"], ("tsteps=-3", ">= 1")),
    (["data_args={stimms:3}"], ("stimms=3",)),
    (["epoch=3"], ("epoch", "did you mean epochs")),
    (["learningrate=0.1"], ("learningrate", "did you mean learning_rate")),
]


@pytest.mark.integration
@pytest.mark.parametrize(("entries", "fragments"), CONFIG_VALUES, ids=[" ".join(e) for e, _ in CONFIG_VALUES])
def test_bad_config_value_is_refused_before_any_job(project: Path, entries: list[str], fragments: tuple) -> None:
    before = files_in(project)
    result = run([*SNAKEMAKE, "experiment", "--config", *entries], project)
    assert_refused(result, fragments, before, project)


def edit(project: Path, name: str, change) -> None:
    """Apply ``change`` to the parsed configs/<name> of the scratch project and write it back."""
    path = project / "configs" / name
    content = yaml.safe_load(path.read_text())
    change(content)
    path.write_text(yaml.safe_dump(content, sort_keys=False))


def unknown_class(data: dict) -> None:
    data["data_groups"]["embedded"]["shapes"] = ["disk", "dsik"]


def contrast_level_out_of_range(experiments: dict) -> None:
    experiments["experiment_config"]["contrast"]["data_args"]["contrast"] = [0.1, 5.0]


def parameter_typo(experiments: dict) -> None:
    experiments["experiment_config"]["contrast"]["parameter"] = "contrst"


def loader_argument_typo(experiments: dict) -> None:
    args = experiments["experiment_config"]["contrast"]["data_args"]
    args["contrastt"] = args.pop("contrast")


def entry_key_typo(experiments: dict) -> None:
    entry = experiments["experiment_config"]["contrast"]
    entry["paramter"] = entry.pop("parameter")


def loader_typo(experiments: dict) -> None:
    experiments["experiment_config"]["contrast"]["data_loader"] = "StimulusContrat"


def defaults_wrong_type(defaults: dict) -> None:
    defaults["epochs"] = "five"


def own_dataset_missing_folder(data: dict) -> None:
    data["datasets"] = {"mine": {"path": "no/such/folder", "resolution": 32, "channels": 3}}


def status_not_an_epoch(experiments: dict) -> None:
    experiments["experiment_config"]["contrast"]["status"] = ["init", "epoch=abc"]


def status_after_training(experiments: dict) -> None:
    experiments["experiment_config"]["contrast"]["status"] = "epoch=99"


def switch_off_typo(experiments: dict) -> None:
    experiments["experiment_config"]["contrast"]["switch_off"] = "recurence"


def empty_sweep(experiments: dict) -> None:
    experiments["experiment_config"]["contrast"]["data_args"]["contrast"] = []


def resource_typo(workflow: dict) -> None:
    workflow["plots"] = ["responses", "perfomance"]


CONFIG_FILES = [
    ("config_data.yaml", unknown_class, ("dsik", "disk")),
    ("config_experiments.yaml", contrast_level_out_of_range, ("contrast", "5.0")),
    ("config_experiments.yaml", parameter_typo, ("contrst", "did you mean")),
    ("config_experiments.yaml", loader_argument_typo, ("contrastt", "did you mean")),
    ("config_experiments.yaml", entry_key_typo, ("paramter", "did you mean parameter")),
    ("config_experiments.yaml", loader_typo, ("StimulusContrat", "did you mean")),
    ("config_defaults.yaml", defaults_wrong_type, ("epochs", "five")),
    ("config_data.yaml", own_dataset_missing_folder, ("mine", "no/such/folder")),
    ("config_workflow.yaml", resource_typo, ("perfomance", "did you mean")),
    ("config_experiments.yaml", status_not_an_epoch, ("status", "epoch=abc")),
    ("config_experiments.yaml", status_after_training, ("status", "epoch=99")),
    ("config_experiments.yaml", switch_off_typo, ("switch_off", "recurence")),
    ("config_experiments.yaml", empty_sweep, ("contrast", "[]")),
]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("name", "change", "fragments"), CONFIG_FILES, ids=[change.__name__ for _, change, _ in CONFIG_FILES]
)
def test_config_file_mistake_is_refused_before_any_job(project: Path, name: str, change, fragments: tuple) -> None:
    edit(project, name, change)
    before = files_in(project)
    own = ["--config", "data_name=mine"] if change is own_dataset_missing_folder else []
    result = run([*SNAKEMAKE, "experiment", *own], project)
    assert_refused(result, (*fragments,), before, project)
    assert name in result.stdout or "config" in result.stdout


@pytest.mark.integration
def test_yaml_syntax_error_names_the_file_and_line(project: Path) -> None:
    path = project / "configs" / "config_defaults.yaml"
    path.write_text(path.read_text() + "\nepochs: [5\n")
    before = files_in(project)
    result = run([*SNAKEMAKE, "experiment"], project)
    assert_refused(result, ("config_defaults.yaml", "line"), before, project)
