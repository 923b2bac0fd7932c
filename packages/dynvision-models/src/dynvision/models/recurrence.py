"""Recurrent connections of an area, one module per recurrence type.

Every module maps the area's own (delayed) activity with ``channels`` channels to ``target_channels``
channels at the same spatial size. Only ``full``, ``pointwise``, ``depthpointwise`` and
``pointdepthwise`` can change the number of channels (needed when the recurrence targets the input).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from dynvision.models.spec import RECURRENCE_TYPES

_CHANNEL_CHANGING = ("full", "pointwise", "depthpointwise", "pointdepthwise")


def _depthwise(channels: int, kernel_size: int) -> nn.Conv2d:
    return nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2, groups=channels, bias=False)


def _pointwise(channels: int, target_channels: int) -> nn.Conv2d:
    return nn.Conv2d(channels, target_channels, 1, bias=False)


class SelfRecurrence(nn.Module):
    """Each unit excites or inhibits only itself: one weight per channel."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels, 1, 1), 0.5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight.to(x.dtype)  # under autocast the activity is bf16, like the convs' outputs


class LocalSheet(nn.Module):
    """Topographic channel mixing: channels lie on a sqrt(C) x sqrt(C) sheet and each channel hears its
    neighbours on that sheet through one small kernel shared by all channels.

    The shared kernel is scattered into a C x C matrix once per call and applied as a 1x1 conv, which
    keeps the parameter count at ``k*k`` without permuting the activity.
    """

    def __init__(self, channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        side = math.isqrt(channels)
        if side * side != channels:
            raise ValueError(f"recurrence_type=local needs a square number of channels, got {channels}")
        self.channels, self.kernel_size = channels, kernel_size
        self.weight = nn.Parameter(torch.randn(kernel_size, kernel_size) / kernel_size)
        self.register_buffer("index", self._neighbour_index(side, kernel_size), persistent=False)

    @staticmethod
    def _neighbour_index(side: int, kernel_size: int) -> torch.Tensor:
        """index[c_out, c_in] -> position in the flattened kernel, or k*k (a zero) if not neighbours."""
        radius = kernel_size // 2
        rows = torch.arange(side * side) // side
        cols = torch.arange(side * side) % side
        dr = rows[None, :] - rows[:, None] + radius
        dc = cols[None, :] - cols[:, None] + radius
        inside = (dr >= 0) & (dr < kernel_size) & (dc >= 0) & (dc < kernel_size)
        return torch.where(inside, dr * kernel_size + dc, torch.full_like(dr, kernel_size * kernel_size))

    def matrix(self) -> torch.Tensor:
        flat = torch.cat([self.weight.flatten(), self.weight.new_zeros(1)])
        return flat[self.index][:, :, None, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.matrix().to(x.dtype))

    def extra_repr(self) -> str:
        return f"channels={self.channels}, kernel_size={self.kernel_size}"


def build_recurrence(
    recurrence_type: str, channels: int, target_channels: int, kernel_size: int = 3, local_kernel_size: int = 3
) -> nn.Module | None:
    """Build the recurrent connection of one area (``None`` for ``none``)."""
    if recurrence_type not in RECURRENCE_TYPES:
        raise ValueError(f"recurrence_type={recurrence_type!r} is unknown; valid: {', '.join(RECURRENCE_TYPES)}")
    if channels != target_channels and recurrence_type not in _CHANNEL_CHANGING and recurrence_type != "none":
        raise ValueError(
            f"recurrence_type={recurrence_type} cannot map {channels} to {target_channels} channels "
            f"(recurrence_target=input); use one of {', '.join(_CHANNEL_CHANGING)}"
        )
    padding = kernel_size // 2
    if recurrence_type == "none":
        return None
    if recurrence_type == "self":
        return SelfRecurrence(channels)
    if recurrence_type == "full":
        return nn.Conv2d(channels, target_channels, kernel_size, padding=padding, bias=False)
    if recurrence_type == "depthwise":
        return _depthwise(channels, kernel_size)
    if recurrence_type == "pointwise":
        return _pointwise(channels, target_channels)
    if recurrence_type == "depthpointwise":
        return nn.Sequential(_depthwise(channels, kernel_size), _pointwise(channels, target_channels))
    if recurrence_type == "pointdepthwise":
        return nn.Sequential(_pointwise(channels, target_channels), _depthwise(target_channels, kernel_size))
    if recurrence_type == "identity":
        return nn.Identity()
    if recurrence_type == "local":
        return LocalSheet(channels, local_kernel_size)
    return nn.Sequential(LocalSheet(channels, local_kernel_size), _depthwise(channels, kernel_size))
