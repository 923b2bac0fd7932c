"""Whether a model's activity settles after a stimulus: the blank-decay test of a trained model.

A stable model returns to its spontaneous state once the input goes blank; an unstable one (recurrent
gain above one) keeps its activity, or lets it grow without bound. :func:`blank_decay` shows a brief
stimulus followed by many blank frames and compares, per area, the evoked activity (the response minus
that to blank frames only) at the end of the blank period with its peak.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from dynvision.models.network import TemporalNetwork

BLANK_STEPS = 60
"""Blank frames after the stimulus (120 ms at dt = 2 ms: many time constants of an area)."""
SETTLED_BELOW = 0.1
"""An area has settled when its evoked activity at the end is below this share of its peak."""
END_STEPS = 5
"""The last blank steps averaged for the end value."""


def blank_decay(
    model: TemporalNetwork,
    images: torch.Tensor,
    *,
    stimulus_steps: int | None = None,
    blank_steps: int = BLANK_STEPS,
) -> dict[str, float]:
    """Per area: mean evoked |activity| over the last blank steps over its peak before them (0: back to rest,
    above 1: growing).

    Args:
        model: any temporal model.
        images: normalised images ``(B, C, H, W)``; blank frames are zeros (the dataset mean).
        stimulus_steps: steps the images are shown (default: the model's ``n_timesteps``).
        blank_steps: blank steps after them.
    """
    if blank_steps <= END_STEPS:
        raise ValueError(f"blank_steps={blank_steps} must be > {END_STEPS}")
    shown = model.n_timesteps if stimulus_steps is None else stimulus_steps
    frames = images.unsqueeze(1).expand(-1, shown + blank_steps, *images.shape[1:]).clone()
    frames[:, shown:] = 0
    was_training = model.training
    model.eval()
    with torch.no_grad():
        _, evoked = model(frames, record="layer")
        _, rest = model(torch.zeros_like(frames), record="layer")
    model.train(was_training)
    decay = {}
    for area in model.areas:
        course = (evoked[area][..., 0] - rest[area][..., 0]).mean(0).abs().double()
        peak = float(course[:-END_STEPS].max())  # a runaway area's end lies above every earlier value
        decay[area] = float(course[-END_STEPS:].mean()) / peak if peak > 0 else 0.0
    return decay


def settled(decay: dict[str, float]) -> bool:
    """Whether every area's evoked activity fell below :data:`SETTLED_BELOW` of its peak (finite values only)."""
    return all(value == value and value < SETTLED_BELOW for value in decay.values())
