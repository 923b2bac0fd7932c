"""The plain PyTorch path: samples of a split from the documented layout and the dataset that reads them.

`dynvision.data.batches.build_dataloader` chooses between this path and FFCV's. Both paths read the same
samples in the same order: the train/val split is a seeded permutation of the
`train_all` samples (`split_indices`), the .beton files are written from exactly those index lists, and FFCV's
sequential order is the order of the file. Images are resized (shorter side) and centre-cropped to the dataset
resolution before either path sees them, so pixel values agree exactly when the .beton stores raw pixels.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from dynvision.data.folders import load_image
from dynvision.data.layout import LINK_MARKER, class_index, interim_dir, list_images, raw_dir
from dynvision.data.registry import DatasetInfo

SPLITS = ("train", "val", "test")


def split_indices(n_samples: int, ratio: float, seed: int) -> dict[str, np.ndarray]:
    """Deterministic train/val split of `n_samples` indices: `ratio` of them (rounded) go to train.

    Train keeps ascending index order (its loader shuffles it). Val keeps the seeded random order of the split:
    the samples are listed class by class, so an ascending val would make its first images (all that a capped
    validation reads) one class; in split order any first N images are a random sample of every class, the same
    in every epoch and for every model.
    """
    if not 0 < ratio <= 1:
        raise ValueError(f"split ratio {ratio} must be in (0, 1]")
    permutation = np.random.default_rng(seed).permutation(n_samples)
    n_train = round(n_samples * ratio)
    return {"train": np.sort(permutation[:n_train]), "val": permutation[n_train:]}


class FolderDataset(torch.utils.data.Dataset):
    """Images from class folders with labels in the full label space of the dataset."""

    def __init__(self, samples: list[tuple[Path, int]], info: DatasetInfo, *, normalise: bool = True):
        self.samples = samples
        self.info = info
        self.normalise = normalise
        self.mean = torch.tensor(info.mean, dtype=torch.float32).view(-1, 1, 1)
        self.std = torch.tensor(info.std, dtype=torch.float32).view(-1, 1, 1)

    def __len__(self) -> int:
        return len(self.samples)

    def raw(self, index: int) -> tuple[np.ndarray, int]:
        """uint8 (H, W, C) image and label, as the .beton writer stores them."""
        path, label = self.samples[index]
        return load_image(path, self.info), label

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image, label = self.raw(index)
        tensor = torch.from_numpy(image).permute(2, 0, 1).float().div_(255)
        if self.normalise:
            tensor = (tensor - self.mean) / self.std
        return tensor, label


def train_all_samples(data_name: str, data_root: str | os.PathLike | None = None) -> list[tuple[Path, int]]:
    """All training samples in their stable order: `interim/.../train_all` when linked, else `raw/.../train`."""
    folder = interim_dir(data_name, "train_all", data_root)
    if not (folder / LINK_MARKER).is_file():
        folder = _ensure_raw(data_name, "train", data_root)
    return list_images(folder, class_index(data_name, data_root))


def group_test_samples(
    data_name: str, group: str, data_root: str | os.PathLike | None = None
) -> list[tuple[Path, int]]:
    """Test samples of a group: `interim/.../test_{group}` when linked, else the group's classes in raw."""
    from dynvision.data.groups import resolve_group

    folder = interim_dir(data_name, f"test_{group}", data_root)
    index = class_index(data_name, data_root)
    if (folder / LINK_MARKER).is_file():
        return list_images(folder, index)
    wanted = set(resolve_group(data_name, group, data_root=data_root))
    return [s for s in list_images(_ensure_raw(data_name, "test", data_root), index) if s[1] in wanted]


def _ensure_raw(data_name: str, subset: str, data_root: str | os.PathLike | None) -> Path:
    """The raw subset folder; the embedded dataset is generated on first use since it needs no network."""
    folder = raw_dir(data_name, subset, data_root)
    if not folder.is_dir():
        if data_name != "embedded":
            raise FileNotFoundError(f"{folder} does not exist; run `dynvision-data get {data_name}` first")
        from dynvision.data.get import get_data

        get_data(data_name, data_root, progress=False)
    return folder


def split_samples(
    data_name: str,
    split: str,
    *,
    data_root: str | os.PathLike | None = None,
    group: str = "all",
    ratio: float = 0.9,
    seed: int = 0,
) -> list[tuple[Path, int]]:
    """The (path, label) list of one split: train/val from the seeded split of train_all, test from the group."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid choices: {', '.join(SPLITS)}")
    if split == "test":
        return group_test_samples(data_name, group, data_root)
    samples = train_all_samples(data_name, data_root)
    chosen = [samples[i] for i in split_indices(len(samples), ratio, seed)[split]]
    if group != "all":
        from dynvision.data.groups import resolve_group

        wanted = set(resolve_group(data_name, group, data_root=data_root))
        chosen = [s for s in chosen if s[1] in wanted]
    return chosen
