"""A real `snakemake` run killed with SIGKILL (the whole process group: Snakemake and its training job) in the
middle of training resumes through the documented recovery to the weights and metrics of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from .dryrun import REPO

BIN = Path(sys.executable).parent
CONFIG = [
    "model_name=DyRCNNx2",
    "model_args={tsteps:4,lossrt:0}",
    "epochs=4",
    "train_images=640",
    "batch_size=16",
    "data_group=all",
]
"""A small model trained for a few seconds per epoch (the kill lands in the middle of the run)."""


def command(*extra: str) -> list[str]:
    """The documented wrapper, up to the trained model only."""
    run = [str(BIN / "dynvision-workflow"), "run", "--snakefile", str(REPO / "Snakefile"), "--cores", "1"]
    return [*run, "experiment", "--until", "train_model", *extra, "--config", *CONFIG]


def start(project: Path, *extra: str) -> subprocess.Popen:
    environ = {**os.environ, "DYNVISION_CONFIG_DIR": str(REPO / "configs")}
    log = (project / "run.log").open("a")
    return subprocess.Popen(
        command(*extra), cwd=project, env=environ, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def trained(project: Path) -> Path:
    [model] = (project / "models").rglob("*_trained*.pt")
    return model


def metrics(project: Path) -> str:
    [log] = (project / "logs").rglob("metrics.csv")
    return log.read_text()


def wait_for(condition, timeout: float, process: subprocess.Popen) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.integration
def test_a_killed_snakemake_run_resumes_to_the_weights_of_an_uninterrupted_one(tmp_path: Path) -> None:
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    for project in (straight, killed):
        project.mkdir()
    assert start(straight).wait(timeout=900) == 0, (straight / "run.log").read_text()[-3000:]

    process = start(killed)
    # Kill -9 in the second epoch, once the first has written its checkpoint. Only models/ is searched: the data
    # folder's staging directories vanish while a walk of the whole project is inside them.
    wait_for(lambda: any((killed / "models").rglob("epoch*.ckpt")), 600, process)
    time.sleep(1.0)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not list((killed / "models").rglob("*_trained*.pt")), "killed before the end"
    assert any((killed / ".snakemake" / "locks").iterdir()), "Snakemake's lock is left behind"

    resumed = start(killed, "--rerun-incomplete")
    assert resumed.wait(timeout=900) == 0, (killed / "run.log").read_text()[-3000:]
    assert "removing the stale lock" in (killed / "run.log").read_text()

    a = torch.load(trained(straight), map_location="cpu", weights_only=True)["state_dict"]
    b = torch.load(trained(killed), map_location="cpu", weights_only=True)["state_dict"]
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    assert metrics(killed) == metrics(straight)
