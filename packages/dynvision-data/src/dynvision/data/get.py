"""`get_data`: put a dataset into `raw/{name}/{train,test}/{class}/` once.

Work happens in a staging folder next to the destination; the finished subsets are renamed into place, so a
failed or interrupted run never leaves a raw folder that looks complete.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dynvision.data.layout import SUBSETS, downloads_dir, raw_dir, resolve_data_root
from dynvision.data.normalisation import STATISTICS_FILE, statistics_path
from dynvision.data.registry import DatasetInfo, Resource, get_dataset_info
from dynvision.data.user_datasets import FOLDER_FORMAT


def is_complete(data_name: str, data_root: str | os.PathLike | None = None) -> bool:
    """True when both raw subsets of the dataset are in place."""
    return all(raw_dir(data_name, subset, data_root).is_dir() for subset in SUBSETS)


def get_data(
    data_name: str,
    data_root: str | os.PathLike | None = None,
    *,
    source: str | os.PathLike | None = None,
    resources: Sequence[Resource] | None = None,
    force: bool = False,
    progress: bool = True,
    retries: int = 3,
    backoff: float = 2.0,
    embedded_options: dict | None = None,
) -> Path:
    """Download (or generate, or link) a dataset into the raw layout.

    Args:
        data_name: Registry name.
        data_root: Data root (see `resolve_data_root`).
        source: For `imagenet`: an existing folder with `train/` and `val/` class folders to link.
        resources: Replace the registry's download recipe (a mirror, or a local server in tests).
        force: Rebuild even when the raw folders exist (downloaded archives are reused if they verify).
        progress: Show progress bars.
        retries: Download retries per file.
        backoff: Seconds before the first download retry.
        embedded_options: For `embedded`: seed, n_train_per_class, n_test_per_class (default: config_data.yaml).

    Returns:
        `raw/{data_name}`.
    """
    info = get_dataset_info(data_name)
    if info.archive_format == "existing" and source is None:
        raise ValueError(
            f"{data_name!r} is never downloaded; pass --source DIR pointing to its train/ and val/ folders"
        )
    target = resolve_data_root(data_root) / "raw" / data_name
    if is_complete(data_name, data_root) and not force:
        return target
    target.mkdir(parents=True, exist_ok=True)
    staging = target / f".staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        _fill_staging(info, staging, data_root, source, resources, progress, retries, backoff, embedded_options)
        for subset in SUBSETS:
            if not (staging / subset).exists():
                raise ValueError(f"preparing {data_name!r} produced no {subset!r} subset")
        if (staging / STATISTICS_FILE).exists():  # before the subsets, whose presence marks the dataset complete
            os.replace(staging / STATISTICS_FILE, statistics_path(data_name, data_root))
        for subset in SUBSETS:
            final = target / subset
            if final.is_symlink() or final.is_file():
                final.unlink()
            elif final.exists():
                shutil.rmtree(final)
            os.replace(staging / subset, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _fill_staging(info, staging, data_root, source, resources, progress, retries, backoff, embedded_options) -> None:
    """Produce `staging/{train,test}` for one dataset according to its archive format."""
    from dynvision.data import extract

    fmt = info.archive_format
    if fmt == "embedded":
        _generate_embedded(staging, progress, embedded_options)
        return
    if fmt == "existing":
        _link_existing(Path(source), staging)
        return
    if fmt == FOLDER_FORMAT:
        _link_folder(info, staging, progress)
        return
    files = _download_all(info.name, resources or info.resources, data_root, progress, retries, backoff)
    if fmt == "idx":
        extract.extract_idx(files, info.class_names, staging, progress=progress)
    elif fmt in ("cifar10", "cifar100"):
        (archive,) = files.values()
        extract.extract_cifar(archive, info.class_names, staging, fine=fmt == "cifar100", progress=progress)
    elif fmt == "imagefolder":
        (archive,) = files.values()
        extract.extract_imagefolder(archive, info.extra["subsets"], staging)
    elif fmt == "tinyimagenet":
        (archive,) = files.values()
        extract.extract_tinyimagenet(archive, staging)
    else:
        raise ValueError(f"no extraction for archive format {fmt!r}")


def _download_all(name, resources, data_root, progress, retries, backoff) -> dict[str, Path]:
    from dynvision.data.download import download_file

    folder = downloads_dir(name, data_root)
    return {
        r.filename: download_file(
            r.url, folder / r.filename, md5=r.md5, sha256=r.sha256, progress=progress, retries=retries, backoff=backoff
        )
        for r in resources
    }


def _generate_embedded(staging: Path, progress: bool, options: dict | None) -> None:
    from dynvision.data.data_config import load_data_config
    from dynvision.data.embedded import generate_embedded
    from dynvision.data.extract import write_class_folders
    from dynvision.data.registry import EMBEDDED_CLASSES

    settings = {"seed": 0, "n_train_per_class": 500, "n_test_per_class": 100}
    settings.update(load_data_config().get("embedded_dataset") or {})
    settings.update(options or {})
    unknown = sorted(set(settings) - {"seed", "n_train_per_class", "n_test_per_class"})
    if unknown:
        raise ValueError(
            f"unknown embedded options {unknown}; valid choices: seed, n_train_per_class, n_test_per_class"
        )
    for subset in SUBSETS:
        images, labels = generate_embedded(subset, int(settings[f"n_{subset}_per_class"]), int(settings["seed"]))
        write_class_folders(images, labels, EMBEDDED_CLASSES, staging / subset, progress=progress)


def _link_existing(source: Path, staging: Path) -> None:
    """Link an existing ImageNet-style folder (train/, val/) instead of copying hundreds of gigabytes."""
    for subset, inner in (("train", "train"), ("test", "val")):
        origin = (source / inner).resolve()
        if not origin.is_dir():
            raise FileNotFoundError(f"{origin} does not exist; --source must hold train/ and val/ class folders")
        (staging / subset).symlink_to(origin, target_is_directory=True)


def _link_folder(info: DatasetInfo, staging: Path, progress: bool) -> None:
    """Link a dataset of config_data.yaml (its train/ and test/ folders) once every image in it reads, and store
    the normalisation statistics of its training images (each image decoded once: checked as it is measured)."""
    from dynvision.data.normalisation import compute_statistics

    folder = Path(info.extra["path"]).resolve()
    train, test = (_image_files(folder / subset) for subset in SUBSETS)
    for path in test:
        _read_image(path, info)
    statistics = compute_statistics(train, info, progress=progress, read=_read_image)
    for subset in SUBSETS:
        (staging / subset).symlink_to(folder / subset, target_is_directory=True)
    (staging / STATISTICS_FILE).write_text(json.dumps({"source": str(folder), **statistics}, indent=1) + "\n")


def _image_files(root: Path) -> list[Path]:
    """The files of a subset's class folders, every one an image file (one line naming the first that is not)."""
    from dynvision.data.folders import IMAGE_SUFFIXES

    files = [path for path in sorted(root.glob("*/*")) if not path.name.startswith(".") and not path.is_dir()]
    for path in files:
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise ValueError(f"{path} is not an image ({', '.join(IMAGE_SUFFIXES)}); move it out of the folder")
    return files


def _read_image(path: Path, info: DatasetInfo) -> np.ndarray:
    """One image decoded at the dataset's resolution, or one line naming it when it is empty or broken."""
    from dynvision.data.folders import load_image

    if path.stat().st_size == 0:
        raise ValueError(f"{path} is empty (0 bytes); replace or remove it")
    try:
        return load_image(path, info)
    except Exception as error:  # PIL raises several types for a broken file
        message = f"{path} cannot be read as an image ({type(error).__name__}); replace or remove it"
        raise ValueError(message) from None
