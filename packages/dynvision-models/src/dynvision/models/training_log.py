"""One ``metrics.csv`` for a whole training run, however often it was interrupted and resumed.

Lightning's CSV logger deletes ``metrics.csv`` when it starts, also when a run resumes from a checkpoint, and
a workflow rerunning an incomplete job deletes its outputs, the log among them; so the rows logged up to each
checkpoint are kept beside it, where the resumed run finds them.
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
SNAPSHOT_FILE = "metrics.checkpointed.csv"


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


class MetricsLog(Callback):
    """Keeps the rows of the epochs a checkpoint holds, so that a resumed run's ``metrics.csv`` has every epoch
    once, as an uninterrupted run's has.

    Whenever a checkpoint is saved, when the next epoch starts and when training ends, the logger writes out the
    rows it holds in memory and the rows so far (those of earlier runs first) are copied to
    ``checkpoint_dir/SNAPSHOT_FILE``. A run resuming from that checkpoint reads them back, drops the rows of the
    epoch it redoes (one cut short, or one whose checkpoint was never written) and :meth:`merge` puts them before
    its own once it ends.
    """

    def __init__(self, log_dir: str | os.PathLike, checkpoint_dir: str | os.PathLike, *, resuming: bool) -> None:
        self.current = Path(log_dir) / METRICS_FILE
        self.snapshot = Path(checkpoint_dir) / SNAPSHOT_FILE
        self.writes = rank_zero_only.rank == 0  # with several processes, the one that logs
        self.rows = read_rows(self.snapshot) if resuming and self.writes else []

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.rows = [row for row in self.rows if int(float(row["epoch"])) < trainer.current_epoch]

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict) -> None:
        self._keep(trainer)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Again once the epoch before has logged its epoch means, which Lightning does after its checkpoint."""
        self._keep(trainer)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """And after the last epoch, for a run that dies before its trained model is written."""
        self._keep(trainer)

    def _keep(self, trainer: pl.Trainer) -> None:
        if trainer.logger is not None:
            trainer.logger.save()
        if self.writes:
            write_rows(self.snapshot, self.rows + read_rows(self.current))

    def merge(self) -> None:
        """Earlier rows first, then this run's; called after ``Trainer.fit`` has returned."""
        if self.rows:
            write_rows(self.current, self.rows + read_rows(self.current))
