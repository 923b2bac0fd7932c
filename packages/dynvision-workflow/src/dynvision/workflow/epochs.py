"""The network saved along the way of training: a Lightning callback that hands every N-th epoch's model on.

Imported only when training (it imports Lightning); :func:`dynvision.workflow.runtime.train_model_file` says
what saving means (the model file of status ``epoch=N`` with its sidecar).
"""

from __future__ import annotations

from collections.abc import Callable

import pytorch_lightning as pl
from torch import nn


class SaveEveryEpochs(pl.Callback):
    """Call ``save(model, epoch)`` at the end of every ``every``-th training epoch, in the process of rank 0."""

    def __init__(self, every: int, save: Callable[[nn.Module, int], None]) -> None:
        if every < 1:
            raise ValueError(f"save_every={every} must be >= 1")
        self.every, self.save = every, save

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        epoch = trainer.current_epoch + 1
        if epoch % self.every == 0 and trainer.is_global_zero:
            self.save(pl_module.model, epoch)
