"""Which registered weights a network of a sweep loads instead of being trained: the weights registry file.

A record (``dynvision-models register-weights``) says what its weights were trained on (``meta.data_name``) and
with which model arguments (``meta.args``). A network of ``test_standard_models`` whose model has a record for
its dataset is tested as ``pretrained`` (loaded, not trained); ``init_with_pretrained`` starts training from
such a record, else from the model's published weights. Torch-free: read when the workflow plans.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from dynvision.models.pretrained import read_weights_file

PRETRAINED_STATUS = "pretrained"


@functools.cache
def _records(path: str, mtime: float) -> dict:
    return read_weights_file(path)


def records(registry: str | os.PathLike) -> dict:
    """The records of a registry file, read once per version of the file."""
    path = Path(registry)
    return _records(str(path), path.stat().st_mtime if path.exists() else 0.0)


def dataset_weights(registry: str | os.PathLike, model_name: str, data_name: str) -> str | None:
    """The tag of ``model_name``'s first record trained on ``data_name`` (None: there is none)."""
    tags = records(registry).get(model_name, {})
    return next((tag for tag in sorted(tags) if tags[tag].meta.get("data_name") == data_name), None)
