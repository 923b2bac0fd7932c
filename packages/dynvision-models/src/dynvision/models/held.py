"""Shortcuts of the fast engine for a held image: work that the equations repeat on every step, done once.

A held image (input ``(B, C, H, W)``) gives only two distinct frames, shown and blank, so the first
area's feedforward conv needs to run once per kind of frame, not once per step (:class:`HeldDrive`).
When, in addition, the image is shown on every step and only it drives the first area, that area's
activity is separable in space and time (:class:`HeldFirstArea`). Both are exact, gradients included;
the tests compare them with the plain engine (:mod:`dynvision.models.plain`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from dynvision.models.recurrence import SelfRecurrence

if TYPE_CHECKING:
    from dynvision.models.network import Area, TemporalNetwork
    from dynvision.models.spec import Dynamics

_STATEFUL = (nn.modules.batchnorm._BatchNorm, nn.modules.dropout._DropoutNd)


def held_frames(net: TemporalNetwork, x: torch.Tensor, n: int) -> list[bool] | None:
    """For a held image in the fast engine: which of the ``n`` steps show it (the others are blank), else None.

    Not for a frame sequence, nor when the first area's feedforward conv also sees the recurrent state
    (``recurrence_target=input``) or holds train-mode batch norm or dropout (its output then varies).
    """
    dyn, first = net.dynamics, next(iter(net.layers.values()))
    if x.dim() != 4 or dyn.engine != "fast" or (dyn.recurrence_target == "input" and first.rec is not None):
        return None
    if any(isinstance(m, _STATEFUL) and m.training for m in first.ff.modules()):
        return None
    shown = net.trial.presentation_mask().tolist()
    return [False] * (n - len(shown)) + shown  # the idle steps are blank


class HeldDrive:
    """The first area's feedforward drive of a held image, computed once per kind of frame and grad mode.

    Every later use of a kind reuses the same tensor; autograd sums its gradient over the reuses.
    """

    def __init__(self, area: Area, frames: torch.Tensor, held: list[bool]) -> None:
        self.area, self.frames, self.held = area, frames, held
        self.drives: dict[tuple[bool, bool], torch.Tensor] = {}

    def at(self, t: int) -> torch.Tensor:
        """The drive of frame ``t`` (time-major ``frames``)."""
        key = (self.held[t], torch.is_grad_enabled())
        if key not in self.drives:
            self.drives[key] = self.area.ff(self.frames[t])
        return self.drives[key]


class HeldFirstArea:
    """The first area's response to a held image when only that image drives it: separable in space and time.

    With the image shown on every step and no feedback, a first area without recurrence, or with ``self``
    recurrence (one weight per channel), evolves unit by unit, and every step on the way is positively
    homogeneous: the integrator (Euler or RK4, both linear), the recurrent weight, ReLU, the supralinearity
    and max or average pooling. So the area's activity is ``Y * sigma(t)``: one map ``Y = activate(D)`` of
    the image's drive ``D``, scaled per channel by the area's own response to a drive of ones,
    ``sigma(t) = y_1(t) / activate(1)`` (a unit with a negative drive never responds, and ``Y`` is zero
    there). Its output is ``O * sigma(t)`` with ``O = pool(Y)``, so the area's maps are computed once, not
    once per step. Without recurrence ``sigma`` is the same for every channel, and a second area whose
    feedforward pathway is one conv runs it once too: ``W*(s O) + b = s (W*O) + b``. Exact, gradients
    included (not with truncated BPTT, which would cut ``sigma`` but not ``D``).
    """

    def __init__(self, areas: list[Area], drive: torch.Tensor, unit_response: torch.Tensor) -> None:
        """``drive``: ``D``; ``unit_response``: the first area's activity for a drive of ones, ``(T, 1, C, 1, 1)``."""
        self.area = areas[0]
        self.activity = self.area.activate(drive)
        self.output = self.area.output(self.activity)
        uniform = self.area.rec is None  # every channel then has the same scale
        scales = unit_response / self.area.activate(unit_response.new_ones(()))
        self.scales = scales[:, :, :1] if uniform else scales
        self.next_ff = ff = areas[1].ff
        self.next_once = uniform and type(ff) is nn.Conv2d and ff.padding_mode == "zeros"
        if self.next_once:
            self.next_map = F.conv2d(self.output, ff.weight, None, ff.stride, ff.padding, ff.dilation, ff.groups)
            self.next_bias = None if ff.bias is None else ff.bias[:, None, None]
        self.feeds_skip = len(areas) > 2 and areas[2].skip is not None  # the third area reads the output itself

    @staticmethod
    def applies(areas: list[Area], dyn: Dynamics, held: list[bool] | None) -> bool:
        """Whether the first area is separable for these frames (``held``: which steps show the image)."""
        if held is None or not all(held) or len(areas) < 2 or dyn.tbptt_steps is not None or dyn.feedback_mode:
            return False
        if dyn.delay_ff >= len(held):  # the image never reaches the first area
            return False
        first, second = areas[0], areas[1]
        if first.normalisation is not None or first.adaptation is not None or first.post is not None:  # not homogeneous
            return False
        if first.rate or any(area.input_skip is not None for area in areas[1:3]):  # other sources than the image
            return False
        per_channel_rec = isinstance(first.rec, SelfRecurrence) and first.supralin is None
        unit_by_unit = first.rec is None or (per_channel_rec and dyn.recurrence_target != "input")
        positive_gain = first.supralin is None or first.supralin.gain > 0
        homogeneous_pool = first.pool is None or isinstance(first.pool, (nn.MaxPool2d, nn.AvgPool2d))
        second_sees_only_ff = dyn.recurrence_target != "input" or second.rec is None
        return unit_by_unit and positive_gain and homogeneous_pool and second_sees_only_ff

    def next_drive(self, s: torch.Tensor) -> torch.Tensor:
        """The second area's feedforward drive where this area's scale is ``s`` (one step, or a stack of them)."""
        if self.next_once:
            return self.next_map * s if self.next_bias is None else torch.addcmul(self.next_bias, self.next_map, s)
        scaled = self.output * s
        if scaled.dim() == 4:
            return self.next_ff(scaled)
        return self.next_ff(scaled.flatten(0, 1)).unflatten(0, scaled.shape[:2])
