"""The output layout of the workflow, in one place for rules, targets and tests.

Every pattern below is the one documented in the user guide; ``{model_args}`` and ``{data_args}``
are encoded argument strings (``:rctype=full+tsteps=20``) or their hashed tokens (see
:mod:`dynvision.workflow.names`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dynvision.data.layout import LINK_MARKER
from dynvision.workflow.environment import iam_on_cluster

MODEL_STEM = "{model_name}{model_args}_{seed}_{data_name}_{status}"
TEST_STEM = MODEL_STEM + "_{data_loader}{data_args}_{data_group}"
FIGURE_FOLDER = "{experiment}_{model_name}{model_args}_{seed}_{data_name}_{status}_{data_group}"


@dataclass(frozen=True)
class DataPaths:
    """The data layout of dynvision-data (raw downloads, linked subsets, FFCV files)."""

    root: Path

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def interim(self) -> Path:
        return self.root / "interim"

    @property
    def processed(self) -> Path:
        return self.root / "processed"

    def link(self, data_name: str, subset: str) -> Path:
        """The marker `dynvision-data link` writes for a subset (`train_all`, `test_{group}`)."""
        return self.interim / data_name / subset / LINK_MARKER

    def beton(self, data_name: str, split: str) -> Path:
        """The FFCV file `dynvision-data convert` writes for split `train` or `val`."""
        return self.processed / data_name / "train_all" / f"{split}.beton"


@dataclass(frozen=True)
class ProjectPaths:
    """Folders and file patterns of a workflow run, relative to its working directory."""

    data: DataPaths
    models: Path
    reports: Path
    logs: Path

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ProjectPaths:
        return cls(
            data=DataPaths(Path(config.get("data_root", "data"))),
            models=Path(config.get("models_dir", "models")),
            reports=Path(config.get("reports_dir", "reports")),
            logs=Path(config.get("logs_dir", "logs")),
        )

    @property
    def figures(self) -> Path:
        return self.reports / "figures"

    @property
    def benchmarks(self) -> Path:
        return self.logs / "benchmarks"

    def model(self) -> str:
        return str(self.models / "{model_name}" / f"{MODEL_STEM}.pt")

    def responses(self) -> str:
        return str(self.models / "{model_name}" / f"{TEST_STEM}_test_responses.pt")

    def outputs(self) -> str:
        return str(self.reports / "{model_name}" / f"{TEST_STEM}_test_outputs.csv")

    def figure_folder(self) -> str:
        return str(self.figures / "{experiment}" / FIGURE_FOLDER)

    def figure(self) -> str:
        return str(Path(self.figure_folder()) / "{plot}.png")

    def experiment_done(self) -> str:
        return str(self.reports / "experiment_{experiment}.done")

    def checkpoints(self) -> str:
        return str(self.models / "{model_name}" / "checkpoints" / MODEL_STEM)

    @staticmethod
    def iam_on_cluster() -> bool:
        """True inside a SLURM job (see :func:`dynvision.workflow.environment.iam_on_cluster`)."""
        return iam_on_cluster()


def sidecar(path: str | Path) -> Path:
    """``<output without suffix>.config.yaml``: where the parameters of an output are written."""
    path = Path(path)
    return path.with_name(path.stem + ".config.yaml")
