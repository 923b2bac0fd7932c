"""Lightning training of any zoo model: loss over time, energy penalty, parameter groups, resumable runs.

Kept out of ``dynvision.models.__init__`` so that importing the models never imports Lightning.
"""

from __future__ import annotations

import os
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.loggers import CSVLogger
from pytorch_lightning.strategies import StrategyRegistry
from torch import nn

from dynvision.models.network import TemporalNetwork
from dynvision.models.spec import late_response_refusal
from dynvision.models.training_log import MetricsLog

PRECISIONS = ("32", "bf16-mixed", "16-mixed")


def archive_damage(path: Path) -> str | None:
    """Why a checkpoint (a torch zip archive) cannot be read whole, or None: every member's checksum is checked,
    so a file cut short or overwritten is never resumed from."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        return str(error) or type(error).__name__
    return f"{bad} fails its checksum" if bad else None


def strategy_names() -> list[str]:
    """The strategy names Lightning's Trainer accepts: ``auto`` and its registry's."""
    return ["auto", *sorted(StrategyRegistry.available_strategies())]


def parameter_groups(model: nn.Module, lr: float, recurrent_factor: float, feedback_factor: float) -> list[dict]:
    """Adam groups: recurrent weights learn at ``recurrent_factor`` and feedback at ``feedback_factor`` x lr."""
    groups: dict[str, list[nn.Parameter]] = {"base": [], "recurrent": [], "feedback": []}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        parts = name.split(".")
        key = "recurrent" if "rec" in parts else "feedback" if "feedback" in parts else "base"
        groups[key].append(param)
    factors = {"base": 1.0, "recurrent": recurrent_factor, "feedback": feedback_factor}
    return [{"params": ps, "lr": lr * factors[k], "name": k} for k, ps in groups.items() if ps]


def freeze_all_but_readout(model: nn.Module) -> None:
    """Keep every weight outside the read-out (``classifier``) as it is: only the read-out learns."""
    for name, param in model.named_parameters():
        param.requires_grad_(name.startswith("classifier."))


class TrainingDiverged(ValueError):
    """The loss or a gradient became non-finite: training stops, and no trained model is written."""


class DynVisionSystem(pl.LightningModule):
    """Wraps a temporal model for training.

    The loss is cross-entropy over every labelled step (label -1 = ignored) plus ``energy_weight`` times
    the mean |activity| summed over all areas (or over ``energy_areas``), which keeps responses sparse.

    Args:
        model: any :class:`~dynvision.models.TemporalNetwork`.
        lr: base learning rate of Adam; recurrent and feedback weights use fractions of it.
        energy_weight: weight of the activity penalty (0 switches it off).
        energy_areas: areas penalised (None = every area).
        recurrent_lr_factor, feedback_lr_factor: learning-rate factors of those parameter groups.
        weight_decay: Adam weight decay.
        channels_last: keep activity in channels-last memory format (faster convs on many CPUs/GPUs).
        compile: compile the model with ``torch.compile``.
    """

    def __init__(
        self,
        model: nn.Module,
        lr: float = 1e-3,
        energy_weight: float = 1e-3,
        energy_areas: list[str] | None = None,
        recurrent_lr_factor: float = 0.2,
        feedback_lr_factor: float = 0.5,
        weight_decay: float = 0.0,
        channels_last: bool = False,
        compile: bool = False,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["model"])
        self.model = model
        unknown = set(energy_areas or []) - set(model.areas)
        if unknown:
            raise ValueError(f"energy_areas {sorted(unknown)} are unknown; valid: {', '.join(model.areas)}")
        if channels_last:
            self.model.to(memory_format=torch.channels_last)
        if compile:
            self.model.compile()

    def forward(self, x: torch.Tensor, record: bool | str | None = None):
        return self.model(x, record=record)

    def _prepare(self, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and per-step labels for the loss, in training, validation and test alike: the model's trial
        (:class:`~dynvision.models.trial.Trial`) masks blank frames and the reaction time after each onset."""
        inputs, labels = batch
        if inputs.dim() == 4 and labels.dim() != 1:
            raise ValueError(f"images (B, C, H, W) need labels (B,), got {tuple(labels.shape)}")
        if inputs.dim() == 5 and labels.shape != inputs.shape[:2]:
            raise ValueError(f"inputs {tuple(inputs.shape)} need labels (B, T), got {tuple(labels.shape)}")
        labels = self.model.trial.labels(labels.long())
        if self.hparams.channels_last and inputs.dim() == 4:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        return inputs, labels

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> torch.Tensor:
        inputs, labels = self._prepare(batch)
        logits, responses = self.model(inputs, record="layer")
        logits = logits.float()
        labelled = labels >= 0
        per_sample = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-1, reduction="none")
        per_sample = per_sample.view_as(labels)
        n_labelled = labelled.sum()
        ce = per_sample.sum() / n_labelled.clamp(min=1)
        areas = self.hparams.energy_areas or list(responses)
        energy = sum(responses[a][..., 0].mean() for a in areas)
        loss = ce + self.hparams.energy_weight * energy
        correct = (logits.argmax(-1) == labels) & labelled
        batch_size = labels.shape[0]
        on_step = stage == "train"
        self.log(f"{stage}_loss", loss, prog_bar=True, on_step=on_step, on_epoch=True, batch_size=batch_size)
        self.log(f"{stage}_ce", ce, on_step=on_step, on_epoch=True, batch_size=batch_size)
        self.log(f"{stage}_energy", energy, on_step=on_step, on_epoch=True, batch_size=batch_size)
        acc = correct.sum() / n_labelled.clamp(min=1)
        self.log(f"{stage}_acc", acc, prog_bar=True, on_step=on_step, on_epoch=True, batch_size=batch_size)
        counts = labelled.sum(0)
        for t in torch.nonzero(counts).flatten().tolist():
            n = int(counts[t])
            self.log(f"{stage}_loss_t{t:03d}", per_sample[:, t].sum() / n, on_step=False, on_epoch=True, batch_size=n)
            self.log(f"{stage}_acc_t{t:03d}", correct[:, t].sum() / n, on_step=False, on_epoch=True, batch_size=n)
        return loss

    def training_step(self, batch, batch_idx):
        loss = self._step(batch, "train")
        if not torch.isfinite(loss):
            raise TrainingDiverged(
                f"the training loss became {loss.item()} at epoch {self.current_epoch + 1}, batch {batch_idx + 1}: "
                f"{self._cause()}"
            )
        return loss

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        """Stop before a non-finite gradient reaches the weights (they would all turn NaN a step later)."""
        bad = [name for name, p in self.model.named_parameters() if p.grad is not None and not p.grad.isfinite().all()]
        if bad:
            more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
            raise TrainingDiverged(
                f"non-finite gradients of {bad[0]}{more} at epoch {self.current_epoch + 1}, step "
                f"{self.global_step + 1}: {self._cause()}"
            )

    def _cause(self) -> str:
        energy = f" or the energy weight ({self.hparams.energy_weight:g})" if self.hparams.energy_weight else ""
        return f"training diverged; lower the learning rate (lr={self.hparams.lr:g}){energy}"

    def validation_step(self, batch, batch_idx):
        return self._step(batch, "val")

    def test_step(self, batch, batch_idx):
        return self._step(batch, "test")

    def configure_optimizers(self):
        hp = self.hparams
        groups = parameter_groups(self.model, hp.lr, hp.recurrent_lr_factor, hp.feedback_lr_factor)
        optimizer = torch.optim.Adam(groups, lr=hp.lr, weight_decay=hp.weight_decay)
        total = max(int(self.trainer.estimated_stepping_batches), 1)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def parse_devices(devices: int | str) -> int | str:
    """``"auto"`` or a positive device count (also given as text, as from a command line or config)."""
    text = str(devices).strip()
    if text == "auto":
        return "auto"
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise ValueError(f"devices={devices!r} is invalid; valid: auto or a whole number >= 1")


def train(
    model: nn.Module,
    train_loader: Iterable,
    val_loader: Iterable | None = None,
    *,
    max_epochs: int,
    precision: str = "32",
    checkpoint_dir: str | os.PathLike,
    log_dir: str | os.PathLike | None = None,
    progress_bar: bool = True,
    resume: bool = True,
    gradient_clip_val: float | None = 1.0,
    seed: int | None = None,
    devices: int | str = "auto",
    strategy: str = "auto",
    callbacks: list[pl.Callback] | None = None,
    **system_kwargs: Any,
) -> nn.Module:
    """Train ``model`` in place and return it; resumes from ``checkpoint_dir/last.ckpt`` when present.

    Loaders may yield ``(images (B,C,H,W), labels (B,))`` (the image is held for ``n_timesteps``)
    or ``(inputs (B,T,C,H,W), labels (B,T))``. Metrics go to ``log_dir/metrics.csv`` when given; a resumed
    run keeps the rows of the epochs before the interruption there.
    ``devices`` and ``strategy`` go to Lightning's ``Trainer``: ``"auto"`` uses what the machine (or SLURM)
    allots, e.g. ``strategy="ddp"`` with one process per GPU started by ``srun``. ``callbacks`` are added
    to the checkpointing ones.
    """
    if str(precision) not in PRECISIONS:
        raise ValueError(f"precision={precision!r} is unknown; valid: {', '.join(PRECISIONS)}")
    devices = parse_devices(devices)
    if strategy not in strategy_names():
        raise ValueError(f"strategy={strategy!r} is unknown; valid: {', '.join(strategy_names())}")
    if max_epochs < 1:
        raise ValueError(f"max_epochs={max_epochs} must be >= 1")
    if isinstance(model, TemporalNetwork):  # a held image: the read-out must see a response before the last step
        refusal = late_response_refusal(model.dynamics, len(model.layers), model.input_skip_areas)
        if refusal:
            raise ValueError(f"{type(model).__name__} cannot learn: {refusal}")
    if seed is not None:
        pl.seed_everything(seed, workers=True, verbose=False)
    system = DynVisionSystem(model, **system_kwargs)
    checkpoint_dir = Path(checkpoint_dir)
    checkpoint = ModelCheckpoint(dirpath=checkpoint_dir, filename="epoch{epoch:03d}", save_last=True, save_top_k=1)
    logger = CSVLogger(str(log_dir), name="", version="") if log_dir is not None else False
    last = checkpoint_dir / "last.ckpt"
    ckpt_path = str(last) if resume and last.exists() else None
    if ckpt_path is not None and (damage := archive_damage(last)):
        raise ValueError(
            f"{last} is damaged ({damage}); delete it to train from the start (or restore it from a backup)"
        )
    metrics_log = MetricsLog(log_dir, checkpoint_dir, resuming=ckpt_path is not None) if logger else None
    trainer = pl.Trainer(
        max_epochs=max_epochs,
        precision=str(precision),
        accelerator="auto",
        devices=devices,
        strategy=strategy,
        callbacks=[checkpoint, *([] if metrics_log is None else [metrics_log]), *(callbacks or [])],
        logger=logger,
        enable_progress_bar=progress_bar,
        enable_model_summary=False,
        gradient_clip_val=gradient_clip_val,
        default_root_dir=str(checkpoint_dir),
        log_every_n_steps=1,
        num_sanity_val_steps=0,
    )
    with warnings.catch_warnings():
        if ckpt_path is not None:  # the logger warns that it deletes metrics.csv, whose rows the checkpoint keeps
            warnings.filterwarnings("ignore", message="Experiment logs directory .* exists and is not empty")
        trainer.fit(system, train_loader, val_loader, ckpt_path=ckpt_path)
    if metrics_log is not None:
        metrics_log.merge()
    return model
