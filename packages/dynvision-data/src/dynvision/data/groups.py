"""Data groups: named class subsets from `configs/config_data.yaml`, resolved to full-label-space indices."""

from __future__ import annotations

import os

from dynvision.data.data_config import load_data_config

ALL_GROUP = "all"


def list_groups(data_name: str, config_path: str | os.PathLike | None = None) -> list[str]:
    """Group names defined for a dataset, `all` first."""
    groups = (load_data_config(config_path).get("data_groups") or {}).get(data_name) or {}
    return [ALL_GROUP, *(str(name) for name in groups if str(name) != ALL_GROUP)]


def resolve_group(
    data_name: str,
    group: str,
    config_path: str | os.PathLike | None = None,
    data_root: str | os.PathLike | None = None,
) -> list[int]:
    """Sorted full-label-space indices of the classes in a group.

    Entries may be class names (strings, as the dataset names its classes) or label indices (integers).
    Unknown groups or classes raise one line naming the valid choices.
    """
    from dynvision.data.layout import class_names

    names = class_names(data_name, data_root)
    if str(group) == ALL_GROUP:
        return list(range(len(names)))
    groups = (load_data_config(config_path).get("data_groups") or {}).get(data_name) or {}
    groups = {str(key): value for key, value in groups.items()}
    if str(group) not in groups:
        raise ValueError(
            f"unknown data group {group!r} for {data_name!r}; valid choices: "
            f"{', '.join(list_groups(data_name, config_path))}"
        )
    lookup = {name: index for index, name in enumerate(names)}
    indices = set()
    for entry in groups[str(group)]:
        if isinstance(entry, bool):
            raise ValueError(f"group {group!r} of {data_name!r} lists {entry!r}, not a class name or index")
        if isinstance(entry, int):
            if not 0 <= entry < len(names):
                raise ValueError(f"group {group!r} of {data_name!r} lists index {entry}; valid: 0..{len(names) - 1}")
            indices.add(entry)
        elif str(entry) in lookup:
            indices.add(lookup[str(entry)])
        else:
            raise ValueError(
                f"group {group!r} of {data_name!r} lists unknown class {entry!r}; valid choices: {', '.join(names)}"
            )
    return sorted(indices)
