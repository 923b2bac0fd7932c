"""Save and load a model together with how it was built (name, arguments, seed).

The file is a plain ``torch.save`` dict that ``torch.load(..., weights_only=True)`` accepts, written to a
temporary file next to the target and renamed, so readers never see half a file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dynvision.models.files import atomic_path
from dynvision.models.registry import create_model

FORMAT = 1
SIZING = ("n_classes", "input_channels")  # read from the model, so files rebuild even when args omit them


def save_model_file(
    path: str | os.PathLike,
    model: nn.Module,
    *,
    name: str,
    args: dict[str, Any],
    seed: int | str,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``model``'s weights and the record needed to rebuild it with :func:`create_model`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "name": name,
        "args": dict(args),
        "seed": seed,
        "extra": dict(extra or {}),
        "sizing": {key: getattr(model, key) for key in SIZING if hasattr(model, key)},
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    with atomic_path(path) as temporary:
        torch.save(payload, temporary)
    return path


REBUILD = "delete it and rerun what wrote it (the workflow rebuilds a missing model file)"


def load_model_file(path: str | os.PathLike) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the model saved at ``path``; returns it and ``{name, args, seed, extra}``.

    A file that cannot be read (0 bytes, truncated, not a torch file) raises one line naming it and how to
    rebuild it."""
    path = Path(path)
    if path.is_file() and path.stat().st_size == 0:
        raise ValueError(f"{path} is empty (0 bytes); {REBUILD}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as error:  # torch raises RuntimeError, EOFError, UnpicklingError, ... for a damaged file
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"{path} is damaged or not a model file ({first}); {REBUILD}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not a dynvision model file (format {FORMAT})")
    model = create_model(payload["name"], **{**payload.get("sizing", {}), **payload["args"]})
    model.load_state_dict(payload["state_dict"])
    record = {key: payload[key] for key in ("name", "args", "seed", "extra")}
    return model, record
