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
``raw/mydigits/normalisation.json``; the loaders normalise with those (:mod:`dynvision.data.normalisation`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from dynvision.data.dataset_info import DatasetInfo
from dynvision.data.folders import IMAGE_SUFFIXES, order_class_folders

KEYS = ("path", "resolution", "channels", "description")
REQUIRED = ("path", "resolution", "channels")
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9.\-]*"
FOLDER_FORMAT = "folder"
"""`DatasetInfo.archive_format` of a configured dataset: linked from `extra["path"]`."""


def configured_entries(config_path: str | os.PathLike | None = None) -> dict[str, object]:
    """The ``datasets:`` entries of the data config by name (not yet checked)."""
    from dynvision.data.data_config import load_data_config

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
