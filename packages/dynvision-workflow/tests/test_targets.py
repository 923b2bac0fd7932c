"""The plan turns a config sweep into the documented paths and maps file names back to parameters."""

import re
from pathlib import Path

import pytest

from dynvision.workflow.config import load_config
from dynvision.workflow.targets import WorkflowPlan
from dynvision.workflow.validation import validate_config


def plan_for(config_dir: Path, tmp_path: Path, **overrides: object) -> WorkflowPlan:
    config = validate_config(
        load_config(config_dir, {"models_dir": str(tmp_path / "models"), **overrides}), registries=False
    )
    return WorkflowPlan(config)


def test_sweep_paths(config_dir: Path, tmp_path: Path) -> None:
    plan = plan_for(config_dir, tmp_path, model_args="{rctype:[full,self],tsteps:8}", seed="[0001,0002]")
    assert plan.model_args() == [":lossrt=10+rctype=full+tsteps=8", ":lossrt=10+rctype=self+tsteps=8"]
    assert len(list(plan.models())) == 4
    inputs = plan.experiment_inputs("contrast")
    tests = [path for path in inputs if path.endswith("_test_outputs.csv")]
    assert len(tests) == 4 * 7  # four networks x seven contrast levels
    model = "DyRCNNx4:lossrt=10+rctype=self+tsteps=8_0002_embedded_trained"
    stem = f"{model}_StimulusContrast:contrast=0.02+introms=4+stimms=16+trialms=70_all"
    assert f"reports/DyRCNNx4/{stem}_test_outputs.csv" in tests
    figures = [path for path in inputs if path.endswith(".png") and "/comparison_" not in path]
    assert len(figures) == 4 * len(plan.experiment("contrast")["plots"])
    sweep = plan.sweep_name("contrast")
    assert re.fullmatch("rctype-seed-[0-9a-f]{8}", sweep)
    assert f"reports/figures/contrast/comparison_{sweep}/measures.csv" in inputs
    assert len(plan.comparison_inputs("contrast", sweep)) == 4
    with pytest.raises(ValueError, match="is not the sweep of experiment contrast"):
        plan.comparison_inputs("contrast", "rctype-00000000")
    assert plan_for(config_dir, tmp_path).comparison_files("contrast") == []  # one network: nothing to compare


def test_top_level_data_args_override_every_experiment(config_dir: Path, tmp_path: Path) -> None:
    plan = plan_for(config_dir, tmp_path, data_args="{contrast:[0.5]}")
    assert plan.data_args("contrast") == [":contrast=0.5+introms=4+stimms=16+trialms=70"]


def test_hashed_tokens_map_back(config_dir: Path, tmp_path: Path) -> None:
    long_args = "{rctype:full,tsteps:10,dt:2,tau:5,tff:0,trc:6,tsk:0,tfb:30,lossrt:4,idle:0}"
    plan = plan_for(config_dir, tmp_path, model_args=long_args)
    [token] = plan.model_args()
    assert token.startswith("~")
    assert plan.args_dict(token)["tfb"] == 30
    reloaded = plan_for(config_dir, tmp_path, model_args=long_args)
    assert reloaded.args_text(token) == plan.args_text(token)
    assert plan.index_entries(token, ":rctype=full") == [str(tmp_path / "models" / "hashed_args" / f"{token}.yaml")]
    assert not (tmp_path / "models").exists()  # planning writes nothing
