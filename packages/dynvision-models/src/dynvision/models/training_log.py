"""One ``metrics.csv`` for a whole training run, however often it was interrupted and resumed.

Lightning's CSV logger deletes ``metrics.csv`` when it starts, also when a run resumes from a checkpoint,
which would leave the training curve without the epochs before the interruption.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.utilities import rank_zero_only

from dynvision.models.files import atomic_path

METRICS_FILE = "metrics.csv"
EARLIER_FILE = "metrics.earlier.csv"


def read_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    """Write ``rows`` (columns: every key, first seen first) to a temporary file, then rename it to ``path``."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with atomic_path(path) as partial, partial.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


class KeepEarlierMetrics(Callback):
    """On a resumed run, keeps the rows of the epochs the checkpoint holds and puts them before the new ones.

    Made before the logger starts: it moves the rows logged so far to ``metrics.earlier.csv``. When training
    starts it knows the epoch the checkpoint resumes from and drops rows of that epoch or later (an epoch that
    was cut short runs again). :meth:`merge` writes the whole log back to ``metrics.csv`` once the run ends; a
    run interrupted again leaves ``metrics.earlier.csv`` for the next resume.
    """

    def __init__(self, log_dir: str | os.PathLike) -> None:
        self.current = Path(log_dir) / METRICS_FILE
        self.earlier = Path(log_dir) / EARLIER_FILE
        self.writes = rank_zero_only.rank == 0  # with several processes, the one that logs
        self.rows = read_rows(self.earlier) + read_rows(self.current) if self.writes else []
        if self.rows:
            write_rows(self.earlier, self.rows)
        if self.writes:
            self.current.unlink(missing_ok=True)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.rows:
            self.rows = [row for row in self.rows if int(float(row["epoch"])) < trainer.current_epoch]
            write_rows(self.earlier, self.rows)

    def merge(self) -> None:
        """Earlier rows first, then this run's; called after ``Trainer.fit`` has returned."""
        if self.rows:
            write_rows(self.current, self.rows + read_rows(self.current))
        if self.writes:
            self.earlier.unlink(missing_ok=True)
