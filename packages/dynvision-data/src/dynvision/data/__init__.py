"""dynvision.data: datasets in the documented layout, FFCV/PyTorch loaders and temporal stimuli.

Importing the package is cheap (no torch); loaders and stimuli are imported on first use.
"""

from importlib import import_module

from dynvision.data.__about__ import __version__
from dynvision.data.layout import resolve_data_root
from dynvision.data.registry import DEFAULT_DATASET, get_dataset_info, list_datasets

_LAZY = {
    "get_data": "dynvision.data.get",
    "resolve_group": "dynvision.data.groups",
    "list_groups": "dynvision.data.groups",
    "build_dataloader": "dynvision.data.batches",
    "create_stimulus": "dynvision.data.stimuli",
    "list_stimuli": "dynvision.data.stimuli",
}

__all__ = [
    "DEFAULT_DATASET",
    "__version__",
    "build_dataloader",
    "create_stimulus",
    "get_data",
    "get_dataset_info",
    "list_datasets",
    "list_groups",
    "list_stimuli",
    "resolve_data_root",
    "resolve_group",
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dynvision.data' has no attribute {name!r}")
