"""Test-time controls: a trained model with its recurrence, feedback or skip connections switched off.

The feedforward-only re-tests of the original toolbox: the same weights without some connections show
what those connections contribute. :func:`switch_off` removes the areas' modules and updates the model's
:class:`~dynvision.models.spec.Dynamics` to match, so both engines, the area-by-area path, the connection
delays and the first response steps see the model as if it had been built without them (``rctype=none``,
``skip=false``, ``feedback=false``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dynvision.models.network import TemporalNetwork

PARTS = ("recurrence", "feedback", "skip")
"""What :func:`switch_off` removes: each area's recurrent connection, its feedback from the area above,
its skip connection from two areas below."""

_MODULE = {"recurrence": "rec", "feedback": "feedback", "skip": "skip"}
_DYNAMICS = {"recurrence": ("recurrence_type", "none"), "feedback": ("feedback", False), "skip": ("skip", False)}


def switch_off(model: TemporalNetwork, parts: str | Iterable[str]) -> TemporalNetwork:
    """Remove ``parts`` (a name of :data:`PARTS`, or several) from ``model`` in place; returns the model."""
    parts = (parts,) if isinstance(parts, str) else tuple(parts)
    for part in parts:
        if part not in PARTS:
            raise ValueError(f"switch_off part {part!r} is unknown; valid: {', '.join(PARTS)}")
    for area in model.layers.values():
        for part in parts:
            setattr(area, _MODULE[part], None)
    model.dynamics = dataclasses.replace(model.dynamics, **dict(_DYNAMICS[part] for part in parts))
    return model
