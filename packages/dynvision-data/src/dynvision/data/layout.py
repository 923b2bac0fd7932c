"""The documented data layout and the class index of every class folder.

```
{root}/downloads/{name}/...                      archives as published (kept to verify and re-extract)
{root}/raw/{name}/{train,test}/{class}/...        images in class folders
{root}/interim/{name}/train_all/{class} -> raw    symlinked class folders + folder.link marker
{root}/interim/{name}/test_{group}/{class} -> raw
{root}/processed/{name}/train_all/{train,val}.beton
```

The label of a class folder is its index in the dataset's own class list (registry), or, for datasets whose
classes are defined by the folders, the numeric value of all-digit folder names (never string order, which
would put "10" before "2") or else the sorted folder names.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from dynvision.data.files import write_text_atomic
from dynvision.data.folders import IMAGE_SUFFIXES, order_class_folders
from dynvision.data.registry import get_dataset_info

DATA_ROOT_ENV = "DYNVISION_DATA_ROOT"
SUBSETS = ("train", "test")
LINK_MARKER = "folder.link"


def resolve_data_root(root: str | os.PathLike | None = None) -> Path:
    """Data root: the argument, else the environment variable DYNVISION_DATA_ROOT, else `./data`."""
    if root is not None and str(root) != "":
        return Path(root)
    return Path(os.environ.get(DATA_ROOT_ENV) or "data")


def raw_dir(data_name: str, subset: str, data_root: str | os.PathLike | None = None) -> Path:
    """`raw/{data_name}/{subset}`: where `get_data` puts class folders."""
    if subset not in SUBSETS:
        raise ValueError(f"unknown raw subset {subset!r}; valid choices: {', '.join(SUBSETS)}")
    return resolve_data_root(data_root) / "raw" / data_name / subset


def downloads_dir(data_name: str, data_root: str | os.PathLike | None = None) -> Path:
    """`downloads/{data_name}`: archives as published."""
    return resolve_data_root(data_root) / "downloads" / data_name


def interim_dir(data_name: str, subset: str, data_root: str | os.PathLike | None = None) -> Path:
    """`interim/{data_name}/{subset}` with subset `train_all` or `test_{group}`."""
    _check_interim_subset(subset)
    return resolve_data_root(data_root) / "interim" / data_name / subset


def processed_path(data_name: str, split: str, data_root: str | os.PathLike | None = None) -> Path:
    """`processed/{data_name}/train_all/{split}.beton` for split `train` or `val`."""
    if split not in ("train", "val"):
        raise ValueError(f"unknown processed split {split!r}; valid choices: train, val")
    return resolve_data_root(data_root) / "processed" / data_name / "train_all" / f"{split}.beton"


def _check_interim_subset(subset: str) -> None:
    if subset != "train_all" and not (subset.startswith("test_") and len(subset) > len("test_")):
        raise ValueError(f"unknown interim subset {subset!r}; valid choices: train_all, test_<group>")


def class_names(data_name: str, data_root: str | os.PathLike | None = None) -> list[str]:
    """Class names in label order: the registry's list, or (for folder-defined datasets) the raw train folders."""
    info = get_dataset_info(data_name)
    if info.class_names is not None:
        return list(info.class_names)
    folder = raw_dir(data_name, "train", data_root)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"classes of {data_name!r} are defined by its folders but {folder} does not exist; "
            f"run `dynvision-data get {data_name}` first"
        )
    return order_class_folders([p.name for p in folder.iterdir() if p.is_dir()])


def class_index(data_name: str, data_root: str | os.PathLike | None = None) -> dict[str, int]:
    """Map class folder name -> label in the full label space."""
    return {name: index for index, name in enumerate(class_names(data_name, data_root))}


def list_images(folder: Path, index: dict[str, int]) -> list[tuple[Path, int]]:
    """All (image path, full-space label) pairs under class folders, in a stable order.

    Files are sorted by name within each class and classes by label, so the same folder always gives the same
    sample order; that order is what the train/val split and the .beton files are built from.
    """
    unknown = sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name not in index)
    if unknown:
        raise ValueError(f"class folders {unknown} in {folder} are not classes of this dataset")
    samples = []
    for name in sorted((p.name for p in folder.iterdir() if p.is_dir()), key=index.__getitem__):
        files = sorted(f for f in (folder / name).iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        samples.extend((f, index[name]) for f in files)
    return samples


def link_subset(
    data_name: str,
    subset: str,
    class_indices: list[int],
    data_root: str | os.PathLike | None = None,
) -> Path:
    """Create `interim/{data_name}/{subset}` with the chosen class folders symlinked from raw.

    `train_all` links from `raw/.../train`, `test_{group}` from `raw/.../test`. The `folder.link` marker is
    written last (atomically) and lists the linked classes with their full-space labels, so a folder without
    it is never taken as complete.

    Returns:
        Path of the `folder.link` marker.
    """
    _check_interim_subset(subset)
    source = raw_dir(data_name, "train" if subset == "train_all" else "test", data_root)
    if not source.is_dir():
        raise FileNotFoundError(f"{source} does not exist; run `dynvision-data get {data_name}` first")
    names = class_names(data_name, data_root)
    target = interim_dir(data_name, subset, data_root)
    target.mkdir(parents=True, exist_ok=True)
    marker = target / LINK_MARKER
    marker.unlink(missing_ok=True)
    wanted = {names[i] for i in class_indices}
    for entry in target.iterdir():
        if entry.is_symlink() and entry.name not in wanted:
            entry.unlink()
    for name in sorted(wanted):
        link = target / name
        if not (source / name).is_dir():
            raise FileNotFoundError(
                f"class folder {source / name} is missing; the raw data of {data_name!r} is incomplete"
            )
        # Relative links keep working when the data root is moved or mounted elsewhere (e.g. on compute nodes).
        origin = os.path.relpath(source / name, target)
        if link.is_symlink() and os.readlink(link) == origin:
            continue
        if link.is_symlink():
            link.unlink()
        link.symlink_to(origin, target_is_directory=True)
    record = {
        "data_name": data_name,
        "subset": subset,
        "source": str(source.resolve()),
        "classes": {names[i]: i for i in sorted(class_indices)},
    }
    write_text_atomic(marker, json.dumps(record, indent=1) + "\n")
    return marker
