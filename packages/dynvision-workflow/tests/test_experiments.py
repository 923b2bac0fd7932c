"""The shipped experiments with their own protocols: every one plans, and the cheap ones run end to end."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from dynvision.workflow.provenance import REFERENCE_TRAINING, training_tag

from .dryrun import REPO, snakemake

SHIPPED = yaml.safe_load((REPO / "configs" / "config_experiments.yaml").read_text())["experiment_config"]
CHEAP = ["noiseadaptation", "spatialsplit", "gaussianblurnoise", "motionblurnoise", "responseffonly"]
"""Experiments of the original toolbox's list whose loaders or controls no other end-to-end test runs."""

TINY = ["model_name=DyRCNNx2", "model_args={rctype:full,tsteps:3,lossrt:0}", "epochs=1", "train_images=32",
        "test_images=16", "batch_size=16", "test_batch_size=16", "data_group=one"]  # fmt: skip


@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_shipped_experiment_plans_a_test_per_level(tmp_path: Path, name: str) -> None:
    plan = snakemake(tmp_path, "--config", f"experiment={name}", *TINY)
    assert plan.returncode == 0, plan.stderr
    levels = 1  # tests: one per combination of the swept data arguments and statuses
    for value in [*SHIPPED[name]["data_args"].values(), SHIPPED[name].get("status")]:
        levels *= len(value) if isinstance(value, list) else 1
    tests = [path for path in plan.outputs_of("test_model") if path.endswith("_test_outputs.csv")]
    assert len(tests) == levels and f"reports/experiment_{name}.done" in plan.outputs


@pytest.mark.slow
@pytest.mark.integration
def test_the_cheap_experiments_run_end_to_end_with_their_shipped_protocols(tmp_path: Path, data_root: Path) -> None:
    run = snakemake(tmp_path, "--cores", "2", "--config", f"experiment=[{','.join(CHEAP)}]", *TINY,
                    f"data_root={data_root}", dry=False)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    for name in CHEAP:
        assert (tmp_path / "reports" / f"experiment_{name}.done").exists()
        [folder] = (tmp_path / "reports" / "figures" / name).iterdir()
        table = pd.read_csv(folder / "data.csv")
        parameter = SHIPPED[name]["parameter"]
        levels = SHIPPED[name]["data_args"][parameter]
        assert table[parameter].nunique() == len(levels)
        assert all((folder / f"{plot}.png").stat().st_size > 0 for plot in ("responses", "performance", "summary"))
    adaptation = pd.read_csv(next((tmp_path / "reports" / "figures" / "noiseadaptation").iterdir()) / "data.csv")
    assert set(adaptation["adapter"].astype(str)) == {"none", "same", "different"}
    [ffonly] = (tmp_path / "reports" / "figures" / "responseffonly").iterdir()
    trained = "trained" + training_tag({**REFERENCE_TRAINING, "epochs": 1, "train_images": 32, "batch_size": 16})
    assert f"_{trained}-norecurrence-nofeedback_" in ffonly.name
