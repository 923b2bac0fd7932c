"""The four YAML files merge in order, overrides win, and bad configs fail with one clear line."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dynvision.workflow.config import CONFIG_FILES, ConfigError, load_config
from dynvision.workflow.environment import batch_size, iam_on_cluster, progress_bar
from dynvision.workflow.validation import validate_config


def test_merge_order(config_dir: Path) -> None:
    for index, name in enumerate(CONFIG_FILES):
        path = config_dir / name
        content = yaml.safe_load(path.read_text()) if path.exists() else {}
        content["merge_probe"] = index
        content.setdefault("nested_probe", {})[name] = True
        path.write_text(yaml.safe_dump(content))
    config = load_config(config_dir, {"merge_probe": "cli"})
    assert config["merge_probe"] == "cli"
    assert set(config["nested_probe"]) == set(CONFIG_FILES)
    assert load_config(config_dir)["merge_probe"] == len(CONFIG_FILES) - 1


def test_overrides_merge_into_mappings(config_dir: Path) -> None:
    config = load_config(config_dir, {"model_args": {"rctype:self": ""}, "seed": 1})
    assert config["model_args"]["rctype"] == "self"
    assert config["seed"] == "0001"


def test_defaults_are_valid(config_dir: Path) -> None:
    config = validate_config(load_config(config_dir))
    assert config["precision"] == "32"
    assert set(config["experiment_config"]) >= {"contrast", "duration", "interval", "noise"}


def test_missing_config_dir(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config_defaults\.yaml"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"experiment": "nope"}, "unknown experiment 'nope'; valid choices: contrast, duration"),
        (
            {"model_args": "{rctype:weird}"},
            "at the sweep point {lossrt: 6, rctype: weird, tsteps: 8}: recurrence_type='weird' is unknown; valid: ",
        ),
        ({"model_args": "rctype=full"}, "malformed argument string 'rctype=full'"),
        ({"model_args": "{rctype:full"}, "malformed value"),
        ({"precision": "17"}, "config key precision: '17' is not one of"),
        ({"epochs": "many"}, "config key epochs: 'many' is not of type 'integer'"),
        ({"seed": "abc"}, "seed 'abc' is not a number"),
    ],
)
def test_bad_config_one_line(config_dir: Path, override: dict, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        validate_config(load_config(config_dir, override), registries=False)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"model_name": "NoNet"}, "unknown model 'NoNet'; valid choices: "),
        ({"data_name": "nodata"}, "unknown dataset 'nodata'; valid choices: "),
        ({"data_group": "nogroup"}, "unknown data_group of embedded 'nogroup'; valid choices: all"),
    ],
)
def test_bad_names_from_registries(config_dir: Path, override: dict, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        validate_config(load_config(config_dir, override))
    assert message in str(error.value)


def test_cluster_detection() -> None:
    config = {"batch_size": 3, "cluster_batch_size": 256}
    assert iam_on_cluster({"SLURM_JOB_ID": "42"})
    assert not iam_on_cluster({})
    assert batch_size(config, {"SLURM_JOB_ID": "42"}) == 256
    assert batch_size(config, {}) == 3
    assert progress_bar({}) and not progress_bar({"SLURM_JOB_ID": "42"})


def test_checking_the_shipped_configuration_needs_no_torch(config_dir: Path) -> None:
    """Names and arguments of built-in models and stimuli are checked without importing torch (about 2 s)."""
    code = (
        "import sys\nfrom dynvision.workflow.config import load_config\n"
        "from dynvision.workflow.validation import validate_config\n"
        f"validate_config(load_config({str(config_dir)!r}, {{'model_args': {{'rctype': 'self', 'tsteps': 4}}}}))\n"
        "print(sorted(m for m in ('torch', 'pytorch_lightning') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
