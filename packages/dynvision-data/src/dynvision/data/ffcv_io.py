"""FFCV .beton files of the train/val split and the loader that reads them.

FFCV is an optional extra and takes seconds to import, so it is only imported inside these functions. Each
.beton has a JSON sidecar recording the split (ratio, seed, sample count) it was written from; the loader refuses
a file written for another split rather than silently serving different samples than the plain loader.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from dynvision.data.epochs import CountsItsEpochs
from dynvision.data.files import atomic_path, write_text_atomic
from dynvision.data.layout import processed_path
from dynvision.data.loaders import FolderDataset, split_indices, train_all_samples
from dynvision.data.normalisation import with_statistics
from dynvision.data.registry import get_dataset_info

WRITE_MODES = ("raw", "jpg", "smart")


def _import_ffcv():
    try:
        import ffcv  # noqa: F401
    except ImportError as error:
        raise ImportError(
            f"FFCV is not usable ({error}); install the extra: apt-get install libopencv-dev libturbojpeg0-dev "
            "pkg-config && pip install 'dynvision-data[ffcv]' (or use the plain loader, use_ffcv=False)"
        ) from None


class _RGBView(torch.utils.data.Dataset):
    """uint8 RGB (H, W, 3) images and labels of chosen samples, as FFCV's writer wants them."""

    def __init__(self, dataset: FolderDataset, indices: np.ndarray):
        self.dataset = dataset
        self.indices = indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        image, label = self.dataset.raw(int(self.indices[i]))
        if image.shape[2] == 1:
            image = np.repeat(image, 3, axis=2)
        return np.ascontiguousarray(image), int(label)


def write_betons(
    data_name: str,
    *,
    data_root: str | os.PathLike | None = None,
    ratio: float = 0.9,
    seed: int = 0,
    write_mode: str = "raw",
    jpeg_quality: int = 90,
    num_workers: int = 1,
) -> dict[str, Path]:
    """Write `processed/{name}/train_all/{train,val}.beton` from the seeded split of train_all.

    Args:
        write_mode: "raw" stores exact pixels (the default: loaders then agree bit for bit), "jpg" compresses
            with `jpeg_quality`, "smart" lets FFCV choose per image.
        jpeg_quality: JPEG quality 1-100 for "jpg"/"smart".

    Returns:
        The two written paths.
    """
    if write_mode not in WRITE_MODES:
        raise ValueError(f"unknown write mode {write_mode!r}; valid choices: {', '.join(WRITE_MODES)}")
    if not 1 <= jpeg_quality <= 100:
        raise ValueError(f"jpeg_quality {jpeg_quality} must be between 1 and 100")
    _import_ffcv()
    from ffcv.fields import IntField, RGBImageField
    from ffcv.writer import DatasetWriter

    info = with_statistics(get_dataset_info(data_name), data_root)
    samples = train_all_samples(data_name, data_root)
    dataset = FolderDataset(samples, info, normalise=False)
    splits = split_indices(len(samples), ratio, seed)
    empty = [split for split, indices in splits.items() if len(indices) == 0]
    if empty:
        raise ValueError(
            f"ratio {ratio} leaves the {empty[0]} split of {len(samples)} samples empty; use 0 < ratio < 1"
        )
    written = {}
    for split, indices in splits.items():
        path = processed_path(data_name, split, data_root)
        fields = {"image": RGBImageField(write_mode=write_mode, jpeg_quality=jpeg_quality), "label": IntField()}
        with atomic_path(path) as temporary:
            writer = DatasetWriter(str(temporary), fields, num_workers=max(1, num_workers))
            writer.from_indexed_dataset(_RGBView(dataset, indices), chunksize=256)
        record = {"data_name": data_name, "split": split, "ratio": ratio, "seed": seed, "n_samples": len(indices)}
        record.update(write_mode=write_mode, jpeg_quality=jpeg_quality, n_train_all=len(samples))
        record["n_bytes"] = path.stat().st_size  # a file cut short later is found before FFCV reads it
        write_text_atomic(_sidecar(path), json.dumps(record, indent=1) + "\n")
        written[split] = path
    return written


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


class FFCVBatches(CountsItsEpochs):
    """Iterates an FFCV Loader, copying each batch out of FFCV's reused buffers into fresh tensors."""

    def __init__(self, loader, channels: int):
        self.loader = loader
        self.channels = channels

    def set_epoch(self, epoch: int) -> None:
        """The epoch of FFCV's next pass: its random order is drawn from (seed + epoch)."""
        self.loader.next_epoch = epoch

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for images, labels in self.loader:
            # Grey datasets were stored as RGB: keep their one channel. The copy also leaves channels-last.
            images = images[:, : self.channels].clone(memory_format=torch.contiguous_format)
            yield images, labels.reshape(-1).to(torch.int64, copy=True)


def ffcv_loader(
    data_name: str,
    split: str,
    *,
    data_root: str | os.PathLike | None = None,
    batch_size: int = 64,
    num_workers: int = 0,
    seed: int = 0,
    shuffle: bool = False,
    drop_last: bool = False,
    ratio: float = 0.9,
    split_seed: int = 0,
) -> FFCVBatches:
    """FFCV Loader over a .beton written by `write_betons` with the same ratio and split seed."""
    path = processed_path(data_name, split, data_root)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; run `dynvision-data convert {data_name}` first")
    sidecar = _sidecar(path)
    rebuild = f"rerun `dynvision-data convert {data_name} --ratio {ratio} --seed {split_seed}`"
    if sidecar.is_file():
        record = json.loads(sidecar.read_text())
        if record.get("n_bytes", path.stat().st_size) != path.stat().st_size:
            raise ValueError(
                f"{path} is damaged: {path.stat().st_size} bytes, written as {record['n_bytes']}; {rebuild}"
            )
        if (record["ratio"], record["seed"]) != (ratio, split_seed):
            raise ValueError(
                f"{path} was written for ratio={record['ratio']}, seed={record['seed']}, not ratio={ratio}, "
                f"seed={split_seed}; {rebuild}"
            )
    _import_ffcv()
    from ffcv.fields.decoders import IntDecoder, SimpleRGBImageDecoder
    from ffcv.loader import Loader, OrderOption
    from ffcv.transforms import NormalizeImage, ToTensor, ToTorchImage

    info = with_statistics(get_dataset_info(data_name), data_root)
    # Normalise inside FFCV's compiled pipeline (uint8 -> float32 in one pass); grey statistics cover all 3 copies.
    mean = np.resize(np.asarray(info.mean, dtype=np.float64) * 255, 3)
    std = np.resize(np.asarray(info.std, dtype=np.float64) * 255, 3)
    try:
        loader = Loader(
            str(path),
            batch_size=batch_size,
            num_workers=max(1, num_workers),
            order=OrderOption.RANDOM if shuffle else OrderOption.SEQUENTIAL,
            seed=seed,
            drop_last=drop_last,
            pipelines={
                "image": [SimpleRGBImageDecoder(), NormalizeImage(mean, std, np.float32), ToTensor(), ToTorchImage()],
                "label": [IntDecoder(), ToTensor()],
            },
        )
    except Exception as error:  # FFCV reads a damaged header as negative sizes, missing pages, ...
        raise ValueError(f"{path} cannot be read as a .beton ({str(error).splitlines()[0]}); {rebuild}") from None
    return FFCVBatches(loader, info.channels)
