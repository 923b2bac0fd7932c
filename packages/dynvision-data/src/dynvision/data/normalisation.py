"""Normalisation statistics of a dataset without published ones (a dataset of `config_data.yaml`): computed from
its training images by `get`, stored in `raw/{name}/normalisation.json`, read by every loader."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dynvision.data.folders import load_image
from dynvision.data.layout import resolve_data_root
from dynvision.data.registry import DatasetInfo

STATISTICS_FILE = "normalisation.json"


def compute_statistics(
    paths: list[Path],
    info: DatasetInfo,
    progress: bool = False,
    read: Callable[[Path, DatasetInfo], np.ndarray] = load_image,
) -> dict:
    """Per-channel mean and standard deviation of the images on [0, 1], at the dataset's resolution (each image
    decoded by ``read``, which may also check it)."""
    from tqdm import tqdm

    total = np.zeros(info.channels)
    squares = np.zeros(info.channels)
    count = 0
    for path in tqdm(paths, desc=f"statistics of {info.name}", disable=not progress, unit="img"):
        pixels = read(path, info).reshape(-1, info.channels).astype(np.float64) / 255
        total += pixels.sum(0)
        squares += (pixels**2).sum(0)
        count += len(pixels)
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean**2, 0.0))
    if (std < 1e-6).any():
        raise ValueError(f"the training images of {info.name!r} have a constant channel; they cannot be normalised")
    return {
        "mean": [round(float(v), 6) for v in mean],
        "std": [round(float(v), 6) for v in std],
        "images": len(paths),
    }


def statistics_path(data_name: str, data_root: str | os.PathLike | None = None) -> Path:
    return resolve_data_root(data_root) / "raw" / data_name / STATISTICS_FILE


def with_statistics(info: DatasetInfo, data_root: str | os.PathLike | None = None) -> DatasetInfo:
    """``info`` with the normalisation statistics that `get` stored, for a dataset that has none of its own."""
    if info.mean is not None:
        return info
    path = statistics_path(info.name, data_root)
    if not path.is_file():
        raise ValueError(
            f"the normalisation statistics of {info.name!r} ({path}) are missing; run `dynvision-data get {info.name}`"
        )
    stored = json.loads(path.read_text())
    return dataclasses.replace(info, mean=tuple(stored["mean"]), std=tuple(stored["std"]))
