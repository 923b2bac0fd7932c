"""`build_dataloader`: normalised image batches from the documented layout, via FFCV or plain PyTorch.

Both paths read the same samples in the same order: the train/val split is a seeded permutation of the
`train_all` samples (`split_indices`), the .beton files are written from exactly those index lists, and FFCV's
sequential order is the order of the file. Images are resized (shorter side) and centre-cropped to the dataset
resolution before either path sees them, so pixel values agree exactly when the .beton stores raw pixels.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from dynvision.data.layout import LINK_MARKER, class_index, interim_dir, list_images, raw_dir
from dynvision.data.registry import DatasetInfo, get_dataset_info

SPLITS = ("train", "val", "test")


def split_indices(n_samples: int, ratio: float, seed: int) -> dict[str, np.ndarray]:
    """Deterministic train/val split of `n_samples` indices: `ratio` of them (rounded) go to train.

    Each split keeps ascending index order, so a sequential pass is reproducible and independent of the seed.
    """
    if not 0 < ratio <= 1:
        raise ValueError(f"split ratio {ratio} must be in (0, 1]")
    permutation = np.random.default_rng(seed).permutation(n_samples)
    n_train = round(n_samples * ratio)
    return {"train": np.sort(permutation[:n_train]), "val": np.sort(permutation[n_train:])}


def load_image(path: Path, info: DatasetInfo) -> np.ndarray:
    """Decode one image as uint8 (H, W, C) at the dataset resolution (shorter side, then centre crop)."""
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("L" if info.channels == 1 else "RGB")
        size = info.resolution
        if image.size != (size, size):
            width, height = image.size
            scale = size / min(width, height)
            image = image.resize((max(size, round(width * scale)), max(size, round(height * scale))), Image.BILINEAR)
            left, top = (image.size[0] - size) // 2, (image.size[1] - size) // 2
            image = image.crop((left, top, left + size, top + size))
        array = np.array(image, dtype=np.uint8)
    return array[..., None] if array.ndim == 2 else array


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


def build_dataloader(
    data_name: str = "embedded",
    split: str = "train",
    *,
    data_root: str | os.PathLike | None = None,
    group: str = "all",
    batch_size: int = 64,
    use_ffcv: bool = False,
    num_workers: int = 0,
    seed: int = 0,
    shuffle: bool | None = None,
    drop_last: bool = False,
    ratio: float = 0.9,
    split_seed: int = 0,
) -> torch.utils.data.DataLoader | Iterator:
    """Batches of (images float32 (B, C, H, W) normalised, labels int64 (B,)) in the full label space.

    Args:
        data_name: Registry name.
        split: "train" or "val" (seeded split of train_all by `ratio`) or "test" (the group's test folder).
        data_root: Data root (see `resolve_data_root`).
        group: Data group; the default `all` uses every class.
        batch_size: Samples per batch; the last partial batch is kept unless `drop_last`.
        use_ffcv: Read `processed/{name}/train_all/{split}.beton` with FFCV (train/val only; test always
            uses the plain loader, which has no .beton in the layout).
        num_workers: Loader workers (FFCV: threads, at least 1).
        seed: Seed of the shuffle order (a model's seed; it does not change the split).
        shuffle: Default: shuffle train, keep val/test in order.
        drop_last: Drop a last partial batch (False by default on both paths; FFCV's own default is True).
        ratio: Fraction of train_all that forms the train split.
        split_seed: Seed of the train/val split (`dynvision-data convert --seed`), fixed across models.
    """
    info = get_dataset_info(data_name)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid choices: {', '.join(SPLITS)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if shuffle is None:
        shuffle = split == "train"
    if use_ffcv and split != "test":
        if group != "all":
            raise ValueError(f"the .beton files hold all classes; use group='all' with use_ffcv, not {group!r}")
        from dynvision.data.ffcv_io import ffcv_loader

        return ffcv_loader(
            data_name,
            split,
            data_root=data_root,
            batch_size=batch_size,
            num_workers=num_workers,
            seed=seed,
            shuffle=shuffle,
            drop_last=drop_last,
            ratio=ratio,
            split_seed=split_seed,
        )
    dataset = FolderDataset(
        split_samples(data_name, split, data_root=data_root, group=group, ratio=ratio, seed=split_seed), info
    )
    generator = torch.Generator().manual_seed(seed)
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=num_workers,
        drop_last=drop_last,
        generator=generator,
        persistent_workers=num_workers > 0,
    )
