"""The network saved along the way of training: a Lightning callback that hands some epochs' models on.

Imported only when training (it imports Lightning); :func:`dynvision.workflow.runtime.train_model_file` says
what saving means (the model file of status ``epoch=N`` with its sidecar).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytorch_lightning as pl
from torch import nn


class SaveEpochs(pl.Callback):
    """Call ``save(model, epoch)`` at the end of each training epoch of ``epochs`` (1 = the first), in the process
    of rank 0."""

    def __init__(self, epochs: Iterable[int], save: Callable[[nn.Module, int], None]) -> None:
        self.epochs, self.save = set(epochs), save
        if any(epoch < 1 for epoch in self.epochs):
            raise ValueError(f"epochs to save must be >= 1, got {sorted(self.epochs)}")

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        epoch = trainer.current_epoch + 1
        if epoch in self.epochs and trainer.is_global_zero:
            self.save(pl_module.model, epoch)
