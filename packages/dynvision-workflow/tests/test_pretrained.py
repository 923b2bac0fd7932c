"""Registered weights are reused: the guide's test_standard_models loads them instead of training again."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from dynvision.models import create_model
from dynvision.models.io import load_model_file, save_model_file

from .dryrun import snakemake

pytestmark = pytest.mark.integration

TRAINED_ARGS = {"AlexNet": {"tsteps": 3}, "CorNetRT": {"tsteps": 5}, "DyRCNNx2": {"rctype": "full", "tsteps": 3}}
"""The models with weights and the arguments they were trained with (ResNet18 has none: it is trained)."""


def register(tmp_path: Path, registry: Path) -> dict[str, Path]:
    """Model files standing for trained models (their initial weights), registered through the command line."""
    files = {}
    for name, args in TRAINED_ARGS.items():
        torch.manual_seed(3)
        model = create_model(name, n_classes=10, **args)
        files[name] = save_model_file(
            tmp_path / "published" / f"{name}.pt", model, name=name, args=args, seed=3, extra={"data_name": "embedded"}
        )
        command = ["register-weights", str(files[name]), "--tag", "embedded", "--registry", str(registry)]
        done = subprocess.run(
            [Path(sys.executable).parent / "dynvision-models", *command], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
    return files


def test_standard_models_with_registered_weights_are_loaded_not_trained(tmp_path: Path) -> None:
    registry = tmp_path / "weights.yaml"
    files = register(tmp_path, registry)
    records = yaml.safe_load(registry.read_text())
    assert records["CorNetRT"]["embedded"]["meta"]["args"] == {"tsteps": 5}
    work = tmp_path / "work"
    work.mkdir()
    settings = ["test_images=8", "test_batch_size=8", "data_group=one", f"weights_registry={registry}"]
    names = "model_name=[AlexNet,CorNetRT,ResNet18,DyRCNNx2]"
    plan = snakemake(work, "test_standard_models", "--config", names, "experiment=contrast", *settings)
    assert plan.returncode == 0, plan.stderr
    assert plan.rules.count("train_model") == 1 and "ResNet18" in plan.outputs_of("train_model")[0]
    assert sorted(p.split("/")[1] for p in plan.outputs_of("pretrained_model") if p.endswith(".pt")) == sorted(
        TRAINED_ARGS
    )
    # a real run of the loaded models (ResNet18 would be trained: left out of it)
    run = snakemake(work, "test_standard_models", "--cores", "2", "--config", "model_name=[AlexNet,CorNetRT,DyRCNNx2]",
                    "experiment=contrast", *settings, dry=False)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert not list(work.rglob("*_trained*.pt")) and not list((work / "logs").rglob("train_model*"))
    for name in TRAINED_ARGS:
        [loaded] = (work / "models" / name).glob(f"{name}_0001_embedded_pretrained.pt")
        model, record = load_model_file(loaded)
        published, _ = load_model_file(files[name])
        assert record["extra"]["status"] == "pretrained" and record["args"] == TRAINED_ARGS[name]
        assert all(
            torch.equal(a, b) for a, b in zip(model.state_dict().values(), published.state_dict().values(), strict=True)
        )
        outputs = list(
            (work / "reports" / name).glob(f"{name}_0001_embedded_pretrained_StimulusContrast*_test_outputs.csv")
        )
        assert len(outputs) == 7  # seven contrasts


def test_a_pretrained_status_without_weights_is_refused_before_any_job(tmp_path: Path) -> None:
    registry = tmp_path / "weights.yaml"
    registry.write_text("{}\n")
    plan = snakemake(tmp_path, "--config", "experiment=contrast", f"weights_registry={registry}",
                     "experiment_config={contrast:{data_loader:StimulusContrast,status:pretrained}}")  # fmt: skip
    assert plan.returncode != 0
    assert "status pretrained: DyRCNNx4 has no weights trained on embedded in" in plan.stderr
    assert "register-weights" in plan.stderr
