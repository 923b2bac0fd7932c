"""The training settings in the names of trained models, so that runs trained differently never share a file, and
a stimulus variation in the names of figure folders.

A model trained with the reference settings below (those of the shipped ``config_defaults.yaml``) keeps the
guide's names (``..._trained.pt``, ``..._epoch=2.pt``); any other training setting adds ``~`` and 8 hex digits of
a hash of all of them to its status (``..._trained~3f9a1c2e.pt``), and with it to the names of its tests, figures,
checkpoints and training logs. The trained model's sidecar records the settings the tag stands for. ``init``
models do not depend on training and never carry a tag.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

REFERENCE_TRAINING = {
    "epochs": 5,
    "learning_rate": 0.003,
    "energy_weight": 0.0,
    "batch_size": 32,
    "cluster_batch_size": 256,
    "precision": "32",
    "use_ffcv": False,
    "train_ratio": 0.9,
    "augmentation": "none",
    "train_images": 3000,
    "init_with_pretrained": False,
    "freeze_pretrained": False,
}
"""The settings that change what training produces, at their shipped values (untagged names)."""
TAG_PATTERN = r"~[0-9a-f]{8}"


def _tag(settings: Any) -> str:
    """``~`` and 8 hex digits of the SHA-256 of ``settings`` (numbers of a mapping as floats, so that 0 and 0.0 or
    3e-3 and 0.003 give the same tag)."""
    if isinstance(settings, Mapping):
        settings = {key: float(value) if _is_number(value) else value for key, value in settings.items()}
    return "~" + hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]


def stimulus_tag(config: Mapping[str, Any]) -> str:
    """``""`` without a ``data_args`` variation, else ``~`` and 8 hex digits of it: the figure folders of a run
    that changes every experiment's stimulus (``--config data_args={stimms:32}``) lie beside the experiment's
    own. (Editing an experiment's entry redefines it: its figures are redrawn in place.)"""
    variation = config.get("data_args") or {}
    return _tag(variation) if variation else ""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def training_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of ``config`` that change a trained model."""
    return {key: config.get(key) for key in REFERENCE_TRAINING}


def training_tag(config: Mapping[str, Any]) -> str:
    """``""`` for the reference settings, else ``~`` and 8 hex digits of the SHA-256 of all the settings (numbers
    as floats, so that 0 and 0.0 or 3e-3 and 0.003 give the same tag)."""
    settings = training_settings(config)
    if settings == REFERENCE_TRAINING:
        return ""
    return _tag(settings)
