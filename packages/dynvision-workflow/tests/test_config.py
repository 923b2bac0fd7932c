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
            "at the sweep point {lossrt: 10, rctype: weird, tsteps: 8}: rctype='weird' is unknown; valid: ",
        ),
        ({"model_args": "rctype=full"}, "malformed argument string 'rctype=full'"),
        ({"model_args": "{rctype:full"}, "malformed value"),
        ({"precision": "17"}, "config key precision: '17' is not one of"),
        ({"epochs": "many"}, "config key epochs: 'many' is not of type 'integer'"),
        ({"augmentation": "heavy"}, "config key augmentation: 'heavy' is not one of ['none', 'standard', 'strong']"),
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
        f"validate_config(load_config({str(config_dir)!r}, {{'model_args': {{'rctype': 'self', 'tsteps': 5}}}}))\n"
        "print(sorted(m for m in ('torch', 'pytorch_lightning') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


POINT = "at the sweep point {lossrt: 10, rctype: full, "
BAD_VALUES = [
    ({"learning_rate": float("inf")}, "config key learning_rate: inf must be a finite number"),
    ({"energy_weight": float("nan")}, "config key energy_weight: nan must be a finite number"),
    ({"seed": -1}, "seed -1 is negative; seeds are whole numbers >= 0 such as 0001"),
    ({"epochs": 2.0}, "config key epochs: 2.0 must be a whole number (write 2, not 2.0)"),
    ({"test_images": 16.0}, "config key test_images: 16.0 must be a whole number (write 16, not 16.0)"),
    ({"plots": "[responses,trainig]"}, "unknown plot in plots 'trainig'; valid choices: confusion, latency, "
     "performance, responses, summary, training, unrolling, weights (did you mean training?)"),
    ({"model_args": "{tau:-1}"}, POINT + "tau: -1, tsteps: 8}: tau=-1 must be > 0 ms"),
    ({"model_args": "{dt:10,tau:5}"}, "dt=10 > tau=5: alpha=dt/tau must be <= 1"),
    ({"model_args": "{tff:-2}"}, "tff=-2 is negative; delays must be >= 0 ms"),
    ({"model_args": "{trc:-1}"}, "trc=-1 is negative"),
    ({"model_args": "{tfb:0,feedback:true}"}, "tfb=0 is below one step"),
    ({"model_args": "{tsteps:0}"}, "tsteps=0 must be >= 1"),
    ({"model_args": "{tsteps:2.5}"}, "tsteps=2.5 must be an integer"),
    ({"model_args": "{tsteps:true}"}, "tsteps=true must be an integer"),
    ({"model_args": "{tsteps:100000000}"}, "is over 10000 steps"),
    ({"model_args": "{idle:-1}"}, "idle=-1 must be >= 0"),
    ({"model_args": "{rctype:[full,weird]}"}, "rctype: weird, tsteps: 8}: rctype='weird' is unknown"),
    ({"model_args": "{rctarget:top}"}, "rctarget='top' is unknown; valid: input, middle, output"),
    ({"model_args": "{skip:sometimes}"}, "skip='sometimes' is invalid; valid: true, false, additive, multiplicative"),
    ({"model_args": "{feedback:none}"}, "feedback='none' is invalid"),
    ({"model_args": "{pattern:1x}"}, "pattern='1x' must be a string of 0/1"),
    ({"model_args": "{pattern:000}"}, "pattern='000' must be a string of 0/1 with at least one 1"),
    ({"model_args": "{tau:abc}"}, "tau=abc must be a finite number"),
    ({"model_args": "{tbptt:0}"}, "tbptt=0 must be >= 1 or null"),
    ({"model_args": "{rctyp:full}"}, "DyRCNNx4 has no argument 'rctyp' (did you mean rctype?)"),
    ({"model_args": "{tau:1e400}"}, "config key model_args.tau: inf must be a finite number"),
    ({"model_args": "{tff:10}"}, "its last area first responds at step 20 (tff=10 ms per area, dt=2 ms), after the "
     "last of tsteps=8; raise tsteps or lower tff"),
    ({"model_args": "{normsigma:0}"}, "normsigma=0 must be > 0"),
    ({"model_args": "{adapt:-1}"}, "adapt=-1 must be >= 0 (0: off)"),
    ({"model_args": "{tnorm:1}"}, "tnorm=1 must be 0 (instantaneous) or >= dt (dt=2)"),
    ({"model_args": "{tadapt:0}"}, "tadapt=0 must be >= dt (dt=2)"),
    ({"data_args": "{trialms:8,stimms:2}"}, "the protocol's 4 frames end before the last area of DyRCNNx4 at "
     "{lossrt: 10, rctype: full, tsteps: 8} responds"),
    ({"data_args": "{contrast:[0.5,5.0]}"},
     "data_args of experiment contrast at the sweep point {contrast: 5, introms: 4, stimms: 16, trialms: 70}: "
     "StimulusContrast: "
     "contrast must be between 0 and 1, got 5.0"),
    ({"data_args": "{stimms:5}"}, "stimms=5 ms is not a whole number >= 0 of frames of dt=2 ms"),
    ({"data_args": "{stim:2}"}, "StimulusContrast: argument 'stimulus_duration' given twice (as 'stim' and 'stimms')"),
    ({"experiment": "noise", "data_args": "{ssnr:1.5}"}, "StimulusNoise: ssnr must be between 0 and 1, got 1.5"),
    ({"experiment": "noise", "data_args": "{noisetype:pink}"}, "unknown noise_type 'pink'"),
    ({"experiment": "duration", "data_args": "{stimms:-2}"}, "stimms=-2 ms is not a whole number >= 0"),
    ({"learning_rte": 0.1}, "unknown config key 'learning_rte' (did you mean learning_rate?)"),
    ({"experiment_config": {"contrast": {"data_loader": "StimulusContrast", "parameter": "contrast", "statu": "init"}}},
     "experiment_config.contrast: unknown key 'statu' (did you mean status?)"),
]  # fmt: skip


@pytest.mark.parametrize(("override", "message"), BAD_VALUES)
def test_every_bad_value_is_refused_before_any_job_with_the_value_named(
    config_dir: Path, override: dict, message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        validate_config(load_config(config_dir, override))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("rctype", ["none", "self", "full", "depthwise", "local"])
def test_every_recurrence_type_including_none_is_valid(config_dir: Path, rctype: str) -> None:
    config = validate_config(load_config(config_dir, {"model_args": f"{{rctype:{rctype}}}"}))
    assert config["model_args"]["rctype"] == rctype


def test_the_schema_allows_exactly_the_augmentation_presets() -> None:
    from dynvision.data.augment import AUGMENTATIONS
    from dynvision.workflow.validation import SCHEMA_PATH

    schema = yaml.safe_load(SCHEMA_PATH.read_text())
    assert schema["properties"]["augmentation"]["enum"] == list(AUGMENTATIONS)


def test_the_schema_holds_no_defaults_and_the_defaults_file_every_key() -> None:
    """config_defaults.yaml (with the other three files) is the one source of the workflow's defaults."""
    from dynvision.workflow.validation import SCHEMA_PATH

    schema_text = SCHEMA_PATH.read_text()
    assert "default:" not in schema_text
    schema = yaml.safe_load(schema_text)
    repo_configs = Path(__file__).resolve().parents[3] / "configs"
    merged = load_config(repo_configs)
    assert set(schema["required"]) <= set(merged)
    assert set(merged) <= set(schema["properties"])
