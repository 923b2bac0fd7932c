"""Datasets a user adds in ``config_data.yaml``: an image folder with ``train/`` and ``test/`` class folders.

.. code-block:: yaml

    datasets:
      mydigits:                 # data_name=mydigits everywhere (letters, digits, '.', '-')
        path: /data/mydigits    # train/<class>/<image> and test/<class>/<image>; relative to the working directory
        resolution: 28          # side in px: the shorter side is scaled to it, then centre-cropped
        channels: 1             # 1 (grey) or 3 (RGB)
        description: my digits  # optional, shown by `dynvision-data list`

``dynvision-data get mydigits`` checks every image of the folder, links its subsets into ``raw/mydigits/`` and
stores the per-channel mean and standard deviation of the training images (at that resolution) in
``raw/mydigits/normalisation.json``; the loaders normalise with those (:func:`with_statistics`).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from dynvision.data.registry import DatasetInfo

KEYS = ("path", "resolution", "channels", "description")
REQUIRED = ("path", "resolution", "channels")
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9.\-]*"
STATISTICS_FILE = "normalisation.json"
FOLDER_FORMAT = "folder"
"""`DatasetInfo.archive_format` of a configured dataset: linked from `extra["path"]`."""


def configured_entries(config_path: str | os.PathLike | None = None) -> dict[str, object]:
    """The ``datasets:`` entries of the data config by name (not yet checked)."""
    from dynvision.data.groups import load_data_config

    entries = load_data_config(config_path).get("datasets") or {}
    if not isinstance(entries, dict):
        raise ValueError("config_data.yaml: datasets must map each name to {path, resolution, channels}")
    return {str(name): entry for name, entry in entries.items()}


def configured_info(name: str, entry: object) -> DatasetInfo:
    """The registry entry of one configured dataset; its folder is checked and its classes read from it."""
    where = f"config_data.yaml: datasets.{name}"
    if not re.fullmatch(NAME_PATTERN, name):
        raise ValueError(f"{where}: the name is not a file-name part; use letters, digits, '.' and '-'")
    if not isinstance(entry, dict):
        raise ValueError(f"{where} must be a mapping with {', '.join(REQUIRED)}")
    unknown = sorted(set(map(str, entry)) - set(KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r}; valid choices: {', '.join(KEYS)}")
    missing = [key for key in REQUIRED if key not in entry]
    if missing:
        raise ValueError(f"{where}: {missing[0]} is missing (needed: {', '.join(REQUIRED)})")
    resolution, channels = entry["resolution"], entry["channels"]
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 8:
        raise ValueError(f"{where}: resolution {resolution!r} must be a whole number of px >= 8")
    if channels not in (1, 3) or isinstance(channels, bool):
        raise ValueError(f"{where}: channels {channels!r} must be 1 (grey) or 3 (RGB)")
    folder = Path(str(entry["path"])).expanduser()
    return DatasetInfo(
        name=name,
        resolution=resolution,
        channels=channels,
        mean=None,
        std=None,
        class_names=tuple(folder_classes(folder, where)),
        archive_format=FOLDER_FORMAT,
        description=str(entry.get("description") or f"image folder {folder}"),
        extra={"path": str(folder)},
    )


def folder_classes(folder: Path, where: str) -> list[str]:
    """The class names of an image folder: the same class folders under train/ and test/, none empty."""
    from dynvision.data.layout import IMAGE_SUFFIXES, order_class_folders

    classes = {}
    for subset in ("train", "test"):
        root = folder / subset
        if not root.is_dir():
            raise ValueError(f"{where}: {root} does not exist; the folder needs train/ and test/ class folders")
        names = [p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
        if not names:
            raise ValueError(f"{where}: {root} has no class folders (train/<class>/<image>)")
        empty = [n for n in names if not any(f.suffix.lower() in IMAGE_SUFFIXES for f in (root / n).iterdir())]
        if empty:
            raise ValueError(f"{where}: class folder {root / empty[0]} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        classes[subset] = set(names)
    if classes["train"] != classes["test"]:
        only = sorted(classes["train"] ^ classes["test"])[0]
        side = "train" if only in classes["train"] else "test"
        raise ValueError(f"{where}: class {only!r} is only in {side}/; train/ and test/ must hold the same classes")
    return order_class_folders(sorted(classes["train"]))


def check_images(folder: Path, info: DatasetInfo) -> None:
    """Every file of the class folders is a decodable, non-empty image (one line naming the first bad one)."""
    from dynvision.data.layout import IMAGE_SUFFIXES
    from dynvision.data.loaders import load_image

    for subset in ("train", "test"):
        for path in sorted((folder / subset).glob("*/*")):
            if path.name.startswith(".") or path.is_dir():
                continue
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                raise ValueError(f"{path} is not an image ({', '.join(IMAGE_SUFFIXES)}); move it out of the folder")
            if path.stat().st_size == 0:
                raise ValueError(f"{path} is empty (0 bytes); replace or remove it")
            try:
                load_image(path, info)
            except Exception as error:  # PIL raises several types for a broken file
                message = f"{path} cannot be read as an image ({type(error).__name__}); replace or remove it"
                raise ValueError(message) from None


def compute_statistics(samples: list[tuple[Path, int]], info: DatasetInfo, progress: bool = False) -> dict:
    """Per-channel mean and standard deviation of the images on [0, 1], at the dataset's resolution."""
    from tqdm import tqdm

    from dynvision.data.loaders import load_image

    total = np.zeros(info.channels)
    squares = np.zeros(info.channels)
    count = 0
    for path, _ in tqdm(samples, desc=f"statistics of {info.name}", disable=not progress, unit="img"):
        pixels = load_image(path, info).reshape(-1, info.channels).astype(np.float64) / 255
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
        "images": len(samples),
    }


def statistics_path(data_name: str, data_root: str | os.PathLike | None = None) -> Path:
    from dynvision.data.layout import resolve_data_root

    return resolve_data_root(data_root) / "raw" / data_name / STATISTICS_FILE


def with_statistics(info: DatasetInfo, data_root: str | os.PathLike | None = None) -> DatasetInfo:
    """``info`` with the normalisation statistics that `get` stored, for a dataset that has none of its own."""
    import dataclasses

    if info.mean is not None:
        return info
    path = statistics_path(info.name, data_root)
    if not path.is_file():
        raise ValueError(
            f"the normalisation statistics of {info.name!r} ({path}) are missing; run `dynvision-data get {info.name}`"
        )
    stored = json.loads(path.read_text())
    return dataclasses.replace(info, mean=tuple(stored["mean"]), std=tuple(stored["std"]))
