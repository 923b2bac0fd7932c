"""The bad-input catalogue's one check: refused with one line that names the bad value, a non-zero exit code,
no traceback, and nothing written that looks complete."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"
BIN = Path(sys.executable).parent

COMPLETE_LOOKING = ("*.pt", "*.done", "*.csv", "*.png", "*.pdf", "*.beton", "*.yaml", "*.json")
"""Files whose presence says a step finished (a model, a table, a figure, a marker, a sidecar)."""


def files_in(folder: Path) -> set[Path]:
    """Every complete-looking file under ``folder`` (Snakemake's own .snakemake/ state aside)."""
    found = {path for pattern in COMPLETE_LOOKING for path in folder.rglob(pattern)}
    return {path for path in found if ".snakemake" not in path.relative_to(folder).parts}


def run(command: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a console command of this environment in ``cwd``; stdout and stderr together."""
    environ = {**os.environ, "DYNVISION_CONFIG_DIR": str(cwd / "configs"), "DYNVISION_DATA_ROOT": str(cwd / "data")}
    program = str(BIN / command[0]) if (BIN / command[0]).exists() else command[0]
    return subprocess.run(
        [program, *command[1:]],
        cwd=cwd,
        env={**environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )


def assert_refused(result: subprocess.CompletedProcess, fragments: tuple[str, ...], before: set[Path], folder: Path):
    """The catalogue's assertion: exit code, no traceback, one line holding every fragment, nothing complete."""
    output = result.stdout
    assert result.returncode != 0, f"accepted:\n{output[-2000:]}"
    assert "Traceback" not in output, output[-3000:]
    lines = [line for line in output.splitlines() if all(fragment in line for fragment in fragments)]
    assert lines, f"no line names {fragments}:\n{output[-2000:]}"
    error_lines = [line for line in output.splitlines() if "rror" in line or "invalid" in line]
    assert len(error_lines) <= 1, f"the error takes several lines:\n{output[-2000:]}"
    assert files_in(folder) - before == set(), f"written: {sorted(files_in(folder) - before)}"


def testing_command(model: str = "model.pt", **changes: str) -> list[str]:
    """A ``dynvision-workflow test-model`` command line on the embedded data, with some options changed."""
    options = {
        "--input": model,
        "--data-name": "embedded",
        "--data-group": "all",
        "--data-loader": "StimulusContrast",
        "--data-args": ":contrast=1+intro=1+stim=2+tsteps=4",
        "--switch-off": "none",
        "--data-root": "data",
        "--batch-size": "4",
        "--record": "layer",
        "--threads": "1",
        "--responses": "out/responses.pt",
        "--outputs": "out/outputs.csv",
        **changes,
    }
    return runtime_command("test-model", ["--no-progress"], options)


def training_command(model: str = "model.pt", **changes: str) -> list[str]:
    """A ``dynvision-workflow train-model`` command line on the embedded data, with some options changed."""
    options = {
        "--input": model,
        "--output": "out/model_trained.pt",
        "--checkpoint-dir": "out/checkpoints",
        "--log-dir": "out/logs",
        "--data-name": "embedded",
        "--data-root": "data",
        "--epochs": "1",
        "--learning-rate": "0.003",
        "--energy-weight": "0",
        "--batch-size": "4",
        "--precision": "32",
        "--ratio": "0.9",
        "--augmentation": "none",
        "--num-workers": "0",
        "--threads": "1",
        "--devices": "auto",
        "--strategy": "auto",
        "--max-images": "16",
        **changes,
    }
    return runtime_command("train-model", ["--no-ffcv", "--no-progress", "--no-freeze-pretrained"], options)


def runtime_command(name: str, flags: list[str], options: dict[str, str]) -> list[str]:
    """A ``dynvision-workflow`` runtime command line: its flags, then every option and its value."""
    return ["dynvision-workflow", name, *flags, *(part for item in options.items() for part in item)]
