"""What the rules init_model, train_model and test_model do, as plain functions.

They join the three other packages: models (create, save, train), data (loaders, stimuli) and the
viz data contract (what a test writes). torch is imported inside the functions so that importing
this module, and the CLI's ``--help``, stays instant.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dynvision.viz.contract import OUTPUT_COLUMNS
from dynvision.workflow.controls import epoch_status, switch_off_parts, switch_off_setting
from dynvision.workflow.files import atomic_path
from dynvision.workflow.paths import sidecar, status_file
from dynvision.workflow.records import write_yaml

if TYPE_CHECKING:
    import torch
    from torch import nn

RESPONSES_FORMAT = 1


def _seed_everything(seed: str) -> None:
    import random

    import numpy as np
    import torch

    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))


class Truncated:
    """A data loader cut after the batches that hold ``max_images`` images (None: the whole loader).

    Lets a quick run (a smoke test, a laptop demo) train or test on part of a dataset without a
    second copy of it; shuffled loaders still show different images in every epoch, the same in every run.
    """

    def __init__(self, loader: Any, max_images: int | None, batch_size: int) -> None:
        self.loader = loader
        self.max_batches = None if max_images is None else max(1, -(-max_images // batch_size))

    batch_sampler = None  # Lightning looks for a batch sampler beside ``sampler``

    @property
    def sampler(self) -> Any:
        """The loader's sampler, through which Lightning sets the epoch (and with it the shuffle order)."""
        return getattr(self.loader, "sampler", None)

    def __len__(self) -> int:
        length = len(self.loader)
        return length if self.max_batches is None else min(length, self.max_batches)

    def __iter__(self):
        for index, batch in enumerate(self.loader):
            if self.max_batches is not None and index >= self.max_batches:
                return
            yield batch


def _dynamics(model: nn.Module) -> dict[str, Any]:
    """The model's time step, tau, connection delays (ms) and first response step per area, as resolved
    from its arguments and defaults (for figures that need them when the file name does not say)."""
    record: dict[str, Any] = {"dt": float(model.dt)}
    if hasattr(model, "connection_delays"):
        record |= {"tau": float(model.dynamics.tau), **model.connection_delays()}
        record["first_response_step"] = dict(model.first_response_steps())
    return record


def _model_sidecar(path: str | os.PathLike, record: dict[str, Any], model: nn.Module) -> None:
    """The parameters of a model file, next to it (``X_trained.config.yaml``)."""
    extra = record.get("extra") or {}
    write_yaml(
        sidecar(path),
        {
            "model_name": record["name"],
            "model_args": dict(record["args"]),
            "seed": str(record["seed"]),
            **extra,
            "dynamics": _dynamics(model),
        },
    )


def _save_model(path: str | os.PathLike, model: nn.Module, record: dict[str, Any]) -> None:
    """A model file (:func:`dynvision.models.io.save_model_file`) and its sidecar."""
    from dynvision.models.io import save_model_file

    name, args, seed, extra = record["name"], dict(record["args"]), str(record["seed"]), record["extra"]
    save_model_file(path, model, name=name, args=args, seed=seed, extra=extra)
    _model_sidecar(path, record, model)


def initialize_model(
    model_name: str,
    model_args: dict[str, Any],
    seed: str,
    data_name: str,
    output: str | os.PathLike,
    *,
    data_root: str | os.PathLike | None,
    pretrained: bool,
    registry: str | os.PathLike | None = None,
    weights: str | None = None,
) -> nn.Module:
    """Create a model sized for ``data_name`` with the given seed and save it as the ``init`` state.

    ``pretrained``: start from weights, those of ``registry`` trained on ``data_name`` if there are, else the
    model's published ones (a new read-out where the classes differ). ``weights``: the model exactly as the
    registered weights of that tag, built with the arguments they were trained with (status ``pretrained``).
    """
    from dynvision.data.registry import get_dataset_info
    from dynvision.models import create_model, get_weights, list_weights, use_weights_file
    from dynvision.models.spec import sized_for
    from dynvision.workflow.pretrained import PRETRAINED_STATUS, dataset_weights

    info = get_dataset_info(data_name)
    if registry is not None:
        use_weights_file(registry)
    status = "init"
    if weights is not None:
        model_args = {**(get_weights(model_name, weights).meta.get("args") or {}), **model_args}
        status = PRETRAINED_STATUS
    elif pretrained:
        weights = (dataset_weights(registry, model_name, data_name) if registry else None) or next(
            iter(list_weights(model_name)), None
        )
        if weights is None:
            raise ValueError(f"{model_name} has no pretrained weights; set init_with_pretrained: false")
    model_args = {**sized_for(model_name, info.resolution), **model_args}  # CordsNet: built for the data's size
    _seed_everything(seed)
    model = create_model(
        model_name, weights=weights, n_classes=info.n_classes, input_channels=info.channels, **model_args
    )
    extra = {"data_name": data_name, "status": status, "weights": weights}
    _save_model(output, model, {"name": model_name, "args": model_args, "seed": seed, "extra": extra})
    return model


def accuracy(model: nn.Module, loader: Any) -> float:
    """Share of images guessed right at the last step the loss scores, each held as in training (the model's trial)."""
    import torch

    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            logits = model(images)
            scored = model.temporal_labels(labels, logits.shape[1]) >= 0
            last = scored.shape[1] - 1 - scored.flip(1).int().argmax(1)
            guesses = logits[torch.arange(len(labels)), last].argmax(-1)
            correct += int((guesses == labels).sum())
            total += len(labels)
    return correct / max(total, 1)


def train_model_file(
    input_path: str | os.PathLike,
    output: str | os.PathLike,
    *,
    data_name: str,
    checkpoint_dir: str | os.PathLike,
    log_dir: str | os.PathLike,
    data_root: str | os.PathLike | None,
    epochs: int,
    save_epochs: list[int],
    learning_rate: float,
    energy_weight: float,
    batch_size: int,
    precision: str,
    use_ffcv: bool,
    progress: bool,
    ratio: float,
    augmentation: str,
    num_workers: int,
    devices: int | str,
    strategy: str,
    max_images: int | None = None,
    freeze_pretrained: bool = False,
) -> dict[str, Any]:
    """Train an ``init`` model file into a ``trained`` one; resumes from ``checkpoint_dir/last.ckpt``.

    ``freeze_pretrained``: a model initialised from weights learns only its read-out.

    After each epoch N of ``save_epochs`` the model is also saved as status ``epoch=N``, named like ``output``
    with ``epoch=N`` for ``trained`` (:func:`~dynvision.workflow.paths.status_file`). Those files wait in the
    checkpoint folder until training ends: a resumed run (whose outputs Snakemake has removed) keeps the
    epochs before the interruption. ``devices``/``strategy`` go to Lightning (DDP: one such process per GPU,
    started by ``srun``); only the process of rank 0 then writes the files and returns the trained file's
    summary, the others return ``{}``. The checkpoint folder is removed once the files are written.
    """
    from pytorch_lightning.utilities import rank_zero_only

    from dynvision.data.batches import build_dataloader
    from dynvision.models.io import load_model_file
    from dynvision.models.training import freeze_all_but_readout, train
    from dynvision.workflow.epochs import SaveEpochs

    model, record = load_model_file(input_path)
    frozen = freeze_pretrained and bool((record.get("extra") or {}).get("weights"))
    if frozen:
        freeze_all_but_readout(model)
    seed = str(record["seed"])
    summary = {
        **(record.get("extra") or {}),
        "data_name": data_name,
        "augmentation": augmentation,
        "train_images": max_images,
        "learning_rate": learning_rate,
        "energy_weight": energy_weight,
        "batch_size": batch_size,
        "precision": precision,
        "use_ffcv": use_ffcv,
        "train_ratio": ratio,
        "chance": round(1 / model.n_classes, 4),
        "frozen": frozen,
    }
    staged = Path(checkpoint_dir) / "epochs"
    beyond = [epoch for epoch in save_epochs if not 1 <= epoch <= epochs]
    if beyond:
        raise ValueError(f"save_epoch={beyond[0]} is not an epoch of this training (1 to epochs={epochs})")
    epoch_files = {epoch: status_file(output, epoch_status(epoch)) for epoch in save_epochs}

    def save_epoch(net: nn.Module, epoch: int) -> None:
        extra = {**summary, "status": epoch_status(epoch), "epochs": epoch}
        _save_model(staged / epoch_files[epoch].name, net, {**record, "extra": extra})

    _seed_everything(seed)
    common = dict(
        data_root=data_root, batch_size=batch_size, use_ffcv=use_ffcv, num_workers=num_workers, seed=int(seed)
    )
    train_loader = Truncated(
        build_dataloader(data_name, "train", shuffle=True, ratio=ratio, augmentation=augmentation, **common),
        max_images,
        batch_size,
    )
    val_loader = Truncated(
        build_dataloader(data_name, "val", shuffle=False, ratio=ratio, **common), max_images, batch_size
    )
    model = train(
        model,
        train_loader,
        val_loader,
        max_epochs=epochs,
        precision=precision,
        checkpoint_dir=str(checkpoint_dir),
        log_dir=str(log_dir),
        progress_bar=progress,
        resume=True,
        lr=learning_rate,
        energy_weight=energy_weight,
        devices=devices,
        strategy=strategy,
        callbacks=[SaveEpochs(epoch_files, save_epoch)],
    )
    if getattr(rank_zero_only, "rank", 0) != 0:
        return {}
    missing = [path.name for path in epoch_files.values() if not (staged / path.name).exists()]
    if missing:  # the run was interrupted between its checkpoint and the epoch's file
        raise RuntimeError(f"{', '.join(missing)} were not saved by the resumed run; rerun with --forcerun train_model")
    extra = {**summary, "status": "trained", "epochs": epochs, "val_accuracy": round(accuracy(model, val_loader), 4)}
    _save_model(output, model, {**record, "extra": extra})
    for path in epoch_files.values():
        shutil.move(staged / path.name, path)
        shutil.move(sidecar(staged / path.name), sidecar(path))
    # The checkpoints only serve an interrupted run; once the trained file exists, a forced rerun starts afresh.
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
    return extra


def _first_labels(labels: torch.Tensor) -> torch.Tensor:
    """The first label shown in each sequence (-1 when only blank frames were shown)."""
    import torch

    shown = labels >= 0
    first = shown.float().argmax(dim=1)
    picked = labels.gather(1, first.unsqueeze(1)).squeeze(1)
    return torch.where(shown.any(dim=1), picked, torch.full_like(picked, -1))


def outputs_table(logits: torch.Tensor, labels: torch.Tensor, offset: int = 0) -> dict[str, Any]:
    """Columns of the test-output contract for one batch: one row per sample x time step."""
    import torch

    n_samples, n_times = labels.shape
    probabilities = torch.softmax(logits.float(), dim=-1)
    confidence, guess = probabilities.max(dim=-1)
    first = _first_labels(labels)
    first_confidence = probabilities.gather(-1, first.clamp(min=0).view(-1, 1, 1).expand(-1, n_times, 1)).squeeze(-1)
    first_confidence = torch.where(
        first.view(-1, 1) >= 0, first_confidence, torch.full_like(first_confidence, float("nan"))
    )
    columns = (  # in the order of the contract's OUTPUT_COLUMNS (dynvision.viz.contract), which names them
        (torch.arange(n_samples) + offset).repeat_interleave(n_times),
        torch.arange(n_times).repeat(n_samples),
        labels.reshape(-1),
        guess.reshape(-1),
        first.repeat_interleave(n_times),
        confidence.reshape(-1),
        first_confidence.reshape(-1),
    )
    return {name: column.numpy() for name, column in zip(OUTPUT_COLUMNS, columns, strict=True)}


def _layer_statistics(recorded: torch.Tensor, record: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean |activity| and std over units per sample and time step, from either recording mode."""
    if record == "layer":
        return recorded[..., 0], recorded[..., 1]
    flat = recorded.abs().flatten(start_dim=2)
    return flat.mean(dim=2), recorded.flatten(start_dim=2).std(dim=2)


def _class_names(data_name: str, data_root: str | os.PathLike, n_classes: int) -> list[str] | None:
    """The names of the read-out's classes in label order (figures label classes by them); None where the
    dataset does not name as many classes as the read-out has."""
    from dynvision.data.layout import class_names

    try:
        names = class_names(data_name, data_root)
    except (FileNotFoundError, KeyError, ValueError):
        return None
    return names if len(names) == n_classes else None


def evaluate_model(
    input_path: str | os.PathLike,
    responses_path: str | os.PathLike,
    outputs_path: str | os.PathLike,
    *,
    data_name: str,
    data_group: str,
    data_loader: str,
    data_args: dict[str, Any],
    switch_off: str,
    data_root: str | os.PathLike | None,
    batch_size: int,
    record: str,
    progress: bool,
    max_images: int | None = None,
) -> dict[str, Any]:
    """Show a stimulus protocol to a model; write outputs csv, responses .pt and their sidecars atomically.

    ``switch_off`` (``none``, ``recurrence``, ``recurrence+skip``, ...) names the connections the model is
    tested without (:func:`dynvision.models.ablation.switch_off`).
    """
    import pandas as pd
    import torch
    from tqdm import tqdm

    from dynvision.data.batches import build_dataloader
    from dynvision.data.stimuli import create_stimulus
    from dynvision.models import ablation
    from dynvision.models.io import load_model_file
    from dynvision.models.stability import BLANK_STEPS, blank_decay, settled

    parts = switch_off_parts(switch_off)
    model, model_record = load_model_file(input_path)
    ablation.switch_off(model, parts).eval()
    seed = str(model_record["seed"])
    stimulus = create_stimulus(data_loader, dt=model.dt, **data_args)
    # A capped test draws a seeded random subset, so that every class of the group is represented.
    loader = Truncated(
        build_dataloader(
            data_name,
            "test",
            data_root=data_root,
            group=data_group,
            batch_size=batch_size,
            seed=int(seed),
            shuffle=max_images is not None,
        ),
        max_images,
        batch_size,
    )
    columns: list[dict[str, Any]] = []
    logits_all, labels_all, units = [], [], {}
    means: dict[str, list] = {area: [] for area in model.areas}
    stds: dict[str, list] = {area: [] for area in model.areas}
    offset, probe = 0, None
    with torch.no_grad():
        for batch_index, (images, labels) in enumerate(tqdm(loader, desc="test", disable=not progress)):
            probe = images[:16] if probe is None else probe
            inputs, sequence_labels = stimulus(images, labels, seed=int(seed) + batch_index)
            logits, recorded = model(inputs, record=record)
            columns.append(outputs_table(logits, sequence_labels, offset))
            offset += len(labels)
            logits_all.append(logits.to(torch.float16))
            labels_all.append(sequence_labels.to(torch.int64))
            for area in model.areas:
                mean, std = _layer_statistics(recorded[area], record)
                means[area].append(mean.to(torch.float16))
                stds[area].append(std.to(torch.float16))
                if record == "unit":
                    units.setdefault(area, []).append(recorded[area].to(torch.float16))
    if not columns:
        raise ValueError(f"the test set of {data_name} (group {data_group}) is empty")
    decay = blank_decay(model, probe)
    if not settled(decay):
        warnings.warn(
            f"{Path(input_path).name}: activity does not settle after the stimulus (evoked activity after "
            f"{BLANK_STEPS} blank steps / peak: {', '.join(f'{a} {v:.2g}' for a, v in decay.items())})",
            stacklevel=1,
        )
    responses = {
        "format": RESPONSES_FORMAT,
        "dt": float(model.dt),
        "areas": list(model.areas),
        "responses": {area: {"mean": torch.cat(means[area]), "std": torch.cat(stds[area])} for area in model.areas},
        "logits": torch.cat(logits_all),
        "labels": torch.cat(labels_all),
    }
    if units:
        responses["units"] = {area: torch.cat(parts) for area, parts in units.items()}
    table = pd.concat([pd.DataFrame(part) for part in columns], ignore_index=True)
    parameters = {
        "model_name": model_record["name"],
        "model_args": dict(model_record["args"]),
        "seed": seed,
        "data_name": data_name,
        "data_loader": data_loader,
        "data_args": dict(data_args),
        "data_group": data_group,
        "status": (model_record.get("extra") or {}).get("status", "trained"),
        "switch_off": switch_off_setting(parts),
        "dt": float(model.dt),
        "n_timesteps": int(responses["labels"].shape[1]),
        "n_classes": int(responses["logits"].shape[-1]),
        "class_names": _class_names(data_name, data_root, int(responses["logits"].shape[-1])),
        "settled": settled(decay),
        "blank_decay": {area: round(value, 6) for area, value in decay.items()},
        "dynamics": _dynamics(model),
    }
    with atomic_path(responses_path) as temporary:
        torch.save(responses, temporary)
    with atomic_path(outputs_path) as temporary:
        table.to_csv(temporary, index=False)
    write_yaml(sidecar(responses_path), parameters)
    write_yaml(sidecar(outputs_path), parameters)
    return parameters
