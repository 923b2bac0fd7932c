"""Turn downloaded archives into `{train,test}/{class}/*.png|jpg` folders.

Each function writes into a fresh staging folder given by the caller; `get_data` moves the result into place.
"""

from __future__ import annotations

import gzip
import pickle
import shutil
import tarfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def write_class_folders(
    images: np.ndarray, labels: np.ndarray, names: Sequence[str], out_dir: Path, *, progress: bool = True
) -> None:
    """Save uint8 images (N, H, W[, C]) as PNG files `out_dir/{class name}/{i:05d}.png`."""
    from PIL import Image
    from tqdm.auto import tqdm

    for name in names:
        (out_dir / name).mkdir(parents=True, exist_ok=True)
    for i, (image, label) in enumerate(
        tqdm(zip(images, labels, strict=True), total=len(labels), desc=out_dir.name, unit="img", disable=not progress)
    ):
        Image.fromarray(image).save(out_dir / names[int(label)] / f"{i:05d}.png", compress_level=1)


def read_idx(path: Path) -> np.ndarray:
    """Read a (gzipped) IDX file as MNIST publishes it: big-endian dims after a 4-byte magic number."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    if data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise ValueError(f"{path.name} is not an unsigned-byte IDX file")
    n_dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(n_dims))
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * n_dims)
    if array.size != int(np.prod(shape)):
        raise ValueError(f"{path.name}: header says {shape} but holds {array.size} values")
    return array.reshape(shape)


def extract_idx(files: dict[str, Path], names: Sequence[str], staging: Path, *, progress: bool = True) -> None:
    """MNIST-style idx files -> PNG class folders."""
    for subset, prefix in (("train", "train"), ("test", "t10k")):
        images = read_idx(files[f"{prefix}-images-idx3-ubyte.gz"])
        labels = read_idx(files[f"{prefix}-labels-idx1-ubyte.gz"])
        if len(images) != len(labels):
            raise ValueError(f"{prefix}: {len(images)} images but {len(labels)} labels")
        write_class_folders(images, labels, names, staging / subset, progress=progress)


def extract_cifar(archive: Path, names: Sequence[str], staging: Path, *, fine: bool, progress: bool = True) -> None:
    """CIFAR python pickles (tar.gz) -> PNG class folders.

    The archive's checksum is verified before this runs, so unpickling only ever sees the published bytes.
    """
    label_key = b"fine_labels" if fine else b"labels"
    batches: dict[str, list[dict]] = {"train": [], "test": []}
    with tarfile.open(archive, "r:gz") as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            base = Path(member.name).name
            if not member.isfile():
                continue
            if base.startswith("data_batch") or base == "train":
                subset = "train"
            elif base in ("test_batch", "test"):
                subset = "test"
            else:
                continue
            batches[subset].append(pickle.load(tar.extractfile(member), encoding="bytes"))
    for subset, parts in batches.items():
        if not parts:
            raise ValueError(f"{archive.name} holds no {subset} batch")
        data = np.concatenate([part[b"data"] for part in parts]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        labels = np.concatenate([np.asarray(part[label_key]) for part in parts])
        write_class_folders(np.ascontiguousarray(data), labels, names, staging / subset, progress=progress)


def unpack(archive: Path, into: Path) -> None:
    """Unpack a zip or tar archive, refusing members that would land outside `into`."""
    into.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            root = into.resolve()
            for member in zf.namelist():
                if not (into / member).resolve().is_relative_to(root):
                    raise ValueError(f"{archive.name}: member {member!r} points outside the archive")
            zf.extractall(into)
        return
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")


def extract_imagefolder(archive: Path, subsets: dict[str, str], staging: Path) -> None:
    """An archive of class folders (e.g. imagenette) -> move the given folders to `staging/{train,test}`."""
    unpacked = staging / "_unpacked"
    unpack(archive, unpacked)
    for subset, inner in subsets.items():
        source = unpacked / inner
        if not source.is_dir():
            raise ValueError(f"{archive.name} has no folder {inner!r}")
        shutil.move(str(source), str(staging / subset))
    shutil.rmtree(unpacked)


def extract_tinyimagenet(archive: Path, staging: Path) -> None:
    """tiny-imagenet-200.zip -> train/{wnid}/ and test/{wnid}/ (the labelled val split serves as test)."""
    unpacked = staging / "_unpacked"
    unpack(archive, unpacked)
    roots = [p for p in unpacked.iterdir() if p.is_dir()]
    if len(roots) != 1:
        raise ValueError(f"{archive.name} should hold one top folder, found {[p.name for p in roots]}")
    root = roots[0]
    for class_dir in sorted((root / "train").iterdir()):
        target = staging / "train" / class_dir.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(class_dir / "images" if (class_dir / "images").is_dir() else class_dir), str(target))
    for line in (root / "val" / "val_annotations.txt").read_text().splitlines():
        fields = line.split("\t")
        if len(fields) < 2:
            continue
        target = staging / "test" / fields[1]
        target.mkdir(parents=True, exist_ok=True)
        shutil.move(str(root / "val" / "images" / fields[0]), str(target / fields[0]))
    shutil.rmtree(unpacked)
