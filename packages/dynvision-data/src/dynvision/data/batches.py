"""`build_dataloader`: normalised image batches from the documented layout, via FFCV or plain PyTorch.

The one place that chooses a path: FFCV (`dynvision.data.ffcv_io`, from the .beton files) or the plain
PyTorch loader (`dynvision.data.loaders`, from the image folders). Both give the same samples in the same
order (see `dynvision.data.loaders`), and a training augmentation preset (`dynvision.data.augment`) is applied to
the batches either path hands out, so it augments them alike.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import torch

from dynvision.data.augment import AugmentedBatches, check_augmentation
from dynvision.data.epochs import EpochShuffle
from dynvision.data.loaders import SPLITS, FolderDataset, split_samples
from dynvision.data.normalisation import with_statistics
from dynvision.data.registry import get_dataset_info


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
    augmentation: str = "none",
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
        seed: Seed of the shuffle order (a model's seed; it does not change the split). The order of epoch e
            is a function of (seed, e): each pass is the next epoch, and `loader.sampler.set_epoch(e)` (which
            Lightning calls, also on resuming) sets it (`dynvision.data.epochs`).
        shuffle: Default: shuffle train, keep val/test in order.
        drop_last: Drop a last partial batch (False by default on both paths; FFCV's own default is True).
        ratio: Fraction of train_all that forms the train split.
        split_seed: Seed of the train/val split (`dynvision-data convert --seed`), fixed across models.
        augmentation: Preset of `dynvision.data.augment.AUGMENTATIONS` (train only), drawn from (seed, epoch):
            each pass over the loader is the next epoch.
    """
    info = with_statistics(get_dataset_info(data_name), data_root)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid choices: {', '.join(SPLITS)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    check_augmentation(augmentation)
    if augmentation != "none" and split != "train":
        raise ValueError(f"augmentation {augmentation!r} is for the train split only; use 'none' for {split!r}")
    if shuffle is None:
        shuffle = split == "train"
    if use_ffcv and split != "test":
        if group != "all":
            raise ValueError(f"the .beton files hold all classes; use group='all' with use_ffcv, not {group!r}")
        from dynvision.data.ffcv_io import ffcv_loader

        loader = ffcv_loader(
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
    else:
        samples = split_samples(data_name, split, data_root=data_root, group=group, ratio=ratio, seed=split_seed)
        loader = torch.utils.data.DataLoader(
            FolderDataset(samples, info),
            batch_size=batch_size,
            sampler=EpochShuffle(len(samples), seed) if shuffle else None,
            num_workers=num_workers,
            drop_last=drop_last,
            persistent_workers=num_workers > 0,
        )
    return loader if augmentation == "none" else AugmentedBatches(loader, augmentation, info, seed)
