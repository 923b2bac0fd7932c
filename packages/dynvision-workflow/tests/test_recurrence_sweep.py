"""The feedforward control and the recurrent models of one sweep run through the whole workflow."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from dynvision.models.io import load_model_file
from dynvision.workflow.provenance import REFERENCE_TRAINING, training_tag

from .dryrun import snakemake


@pytest.mark.slow
@pytest.mark.integration
def test_a_sweep_over_none_self_and_full_runs_end_to_end(tmp_path: Path, data_root: Path) -> None:
    plan = snakemake(
        tmp_path, "--cores", "2",
        "--config", "experiment=contrast", "model_name=DyRCNNx2",
        "model_args={rctype:[none,self,full],tsteps:3,lossrt:0}",
        "data_args={trialms:10,stimms:4,contrast:[1.0]}", "epochs=1", "train_images=32", "test_images=16",
        "batch_size=16", "test_batch_size=16", "data_group=one", f"data_root={data_root}", "plots=[responses]",
        dry=False,
    )  # fmt: skip
    assert plan.returncode == 0, plan.stderr[-3000:]
    trained_as = "trained" + training_tag({**REFERENCE_TRAINING, "epochs": 1, "train_images": 32, "batch_size": 16})
    for rctype in ("none", "self", "full"):
        name = f"DyRCNNx2:lossrt=0+rctype={rctype}+tsteps=3_0001_embedded"
        folder = tmp_path / "models" / "DyRCNNx2"
        trained = yaml.safe_load((folder / f"{name}_{trained_as}.config.yaml").read_text())
        model, _ = load_model_file(folder / f"{name}_{trained_as}.pt")
        # the file name, the recorded arguments and the model agree: none is the feedforward control
        assert trained["model_args"]["rctype"] == model.dynamics.recurrence_type == rctype
        assert all((area.rec is None) == (rctype == "none") for area in model.layers.values())
        test = f"{name}_{trained_as}_StimulusContrast:contrast=1+introms=4+stimms=4+trialms=10_one"
        outputs = tmp_path / "reports" / "DyRCNNx2" / f"{test}_test_outputs.csv"
        assert len(outputs.read_text().splitlines()) > 1
    assert (tmp_path / "reports" / "experiment_contrast.done").exists()
    [comparison] = (tmp_path / "reports" / "figures" / "contrast").glob("comparison_rctype-*")
    measures = pd.read_csv(comparison / "measures.csv", keep_default_na=False)
    assert set(measures["variant"]) == set(measures["rctype"]) == {"none", "self", "full"}
    assert {"peak_response", "onset_latency", "end_accuracy", "time_to_criterion"} <= set(measures["measure"])
    assert all((comparison / f"comparison{part}.{suffix}").stat().st_size > 0
               for part in ("", "-courses") for suffix in ("png", "pdf"))  # fmt: skip
