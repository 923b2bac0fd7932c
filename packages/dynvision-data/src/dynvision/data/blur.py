"""Blur kernels and their application: a Gaussian of width sigma and a linear motion streak of a given length.

Both kernels sum to 1 and images are padded by reflection, so a blurred image keeps its mean (a blank frame
stays blank) and only its spatial detail is lost.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

BLUR_TYPES = ("gaussian", "motion")


def gaussian_kernel(sigma: float) -> torch.Tensor:
    """(K, K) isotropic Gaussian of standard deviation ``sigma`` px (> 0), radius ceil(3 sigma), summing to 1."""
    import torch

    radius = max(1, math.ceil(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64)
    profile = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = torch.outer(profile, profile)
    return (kernel / kernel.sum()).to(torch.float32)


def motion_kernel(length: float, angle: float = 0.0) -> torch.Tensor:
    """(K, K) streak of ``length`` px (>= 1) at ``angle`` degrees (0: horizontal, 90: vertical), summing to 1.

    The segment of ``length`` px centred on the centre pixel is sampled at 16 points per px and each pixel
    weighs the share of samples nearest to it: a horizontal streak of 5 px is five pixels of 1/5 each.
    """
    import torch

    radius = math.ceil(length / 2 - 0.5)
    samples = 16 * math.ceil(length)
    along = (torch.arange(samples, dtype=torch.float64) + 0.5) * (length / samples) - length / 2
    columns = (radius + along * math.cos(math.radians(angle))).round().long()
    rows = (radius - along * math.sin(math.radians(angle))).round().long()
    kernel = torch.zeros(2 * radius + 1, 2 * radius + 1, dtype=torch.float64)
    kernel.index_put_((rows, columns), torch.ones(samples, dtype=torch.float64), accumulate=True)
    return (kernel / kernel.sum()).to(torch.float32)


def blur(images: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Convolve every channel of (B, C, H, W) ``images`` with the same (K, K) ``kernel``, reflecting at borders."""
    import torch

    radius = kernel.shape[-1] // 2
    if radius == 0:
        return images * kernel.sum()
    batch, channels, height, width = images.shape
    flat = images.reshape(batch * channels, 1, height, width)
    mode = "reflect" if radius < min(height, width) else "replicate"
    padded = torch.nn.functional.pad(flat, (radius, radius, radius, radius), mode=mode)
    weight = kernel.to(device=images.device, dtype=images.dtype).flip(0, 1)[None, None]
    return torch.nn.functional.conv2d(padded, weight).reshape(images.shape)
