"""The built-in models and the keywords they accept, known without importing torch.

The workflow checks a configuration's model names and arguments before any job runs; with this catalogue it
does so without loading torch (about 2 s per run). Models that other packages add through entry points are
known only to the registry, which imports them. A test keeps the catalogue equal to the zoo's signatures.
"""

from __future__ import annotations

from typing import Any

from dynvision.models.config import DYNAMICS_ARGS

ALIASES = {
    "rctype": "recurrence_type",
    "rctarget": "recurrence_target",
    "tsteps": "n_timesteps",
    "tff": "t_feedforward",
    "trc": "t_recurrence",
    "tsk": "t_skip",
    "tfb": "t_feedback",
    "idle": "idle_timesteps",
    "lossrt": "loss_reaction_time",
    "pattern": "presentation_pattern",
    "supralin": "supralinearity",
    "ffonly": "feedforward_only",
}
_DYRCNN = ("channels", "convs_per_area", "kernel_size", "area_names")
_EVERY_MODEL = ("n_classes", "input_channels")
BUILTIN_MODELS: dict[str, tuple[str, ...]] = {
    "AlexNet": (),
    "CorNetRT": (),
    "CordsNet": (),
    "DyRCNNx2": _DYRCNN,
    "DyRCNNx4": _DYRCNN,
    "DyRCNNx8": _DYRCNN,
    "ResNet18": (),
}
"""Each built-in model's own keywords; all of them also take ``n_classes``, ``input_channels`` and the dynamics."""


def builtin_arguments(name: str) -> list[str] | None:
    """Every keyword a built-in model accepts, in the order of its signature; None for any other name."""
    own = BUILTIN_MODELS.get(name)
    return None if own is None else [*own, *_EVERY_MODEL, *DYNAMICS_ARGS]


def map_arguments(name: str, kwargs: dict[str, Any], valid: list[str]) -> dict[str, Any]:
    """Map aliases to long names, drop ``None`` (= the model's default), refuse keys not in ``valid``."""
    resolved: dict[str, Any] = {}
    for key, value in kwargs.items():
        long = ALIASES.get(key, key)
        if long not in valid:
            aliases = ", ".join(f"{a}->{b}" for a, b in ALIASES.items())
            raise ValueError(f"{name} has no argument {key!r}; valid: {', '.join(valid)} (aliases: {aliases})")
        if long in resolved:
            raise ValueError(f"argument {long!r} given twice (as {key!r} and under another name)")
        if value is not None:
            resolved[long] = value
    return resolved
