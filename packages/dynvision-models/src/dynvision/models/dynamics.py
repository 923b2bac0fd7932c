"""Leaky-integrator dynamics in physical units.

Every area obeys ``tau dh/dt = -h + drive``. With a time step ``dt`` this is advanced by
``alpha = dt / tau``. Euler gives ``h <- h + alpha (drive - h)``; RK4 evaluates the same right-hand
side four times with the drive held over the step (zero-order hold), which is what the delays
deliver: every delayed signal is constant within one step.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from dynvision.models.spec import INTEGRATORS


class LeakyIntegrator(nn.Module):
    """Advance ``tau dh/dt = -h + drive`` by one step of ``dt`` ms.

    ``tau`` can be learnable (``train_tau``); it is stored as its logarithm so that it stays positive.
    A state of ``None`` means "nothing has arrived yet" and is treated as zero.
    """

    def __init__(self, tau: float, dt: float, method: str = "euler", train_tau: bool = False) -> None:
        super().__init__()
        if method not in INTEGRATORS:
            raise ValueError(f"integration={method!r} is unknown; valid: {', '.join(INTEGRATORS)}")
        self.method = method
        self.dt = float(dt)
        log_tau = torch.tensor(math.log(tau))
        if train_tau:
            self.log_tau = nn.Parameter(log_tau)
        else:
            self.register_buffer("log_tau", log_tau)

    @property
    def tau(self) -> torch.Tensor:
        return self.log_tau.exp()

    def alpha(self) -> torch.Tensor:
        return self.dt / self.tau

    def forward(self, h: torch.Tensor | None, drive: torch.Tensor | None) -> torch.Tensor | None:
        if drive is None:
            return None if h is None else h * (1 - self.alpha())
        if h is None:
            h = torch.zeros_like(drive)  # keeps the drive's memory layout
        alpha = self.alpha()
        if self.method == "euler":
            return torch.lerp(h, drive, alpha.to(h.dtype))  # h + alpha (drive - h) in one kernel
        k1 = drive - h
        k2 = drive - (h + 0.5 * alpha * k1)
        k3 = drive - (h + 0.5 * alpha * k2)
        k4 = drive - (h + alpha * k3)
        return h + alpha / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

    def extra_repr(self) -> str:
        return f"method={self.method}, dt={self.dt}, tau={float(self.tau):.4g}"


class Supralinearity(nn.Module):
    """``k * sign(x) * |x|^n``: an expansive output nonlinearity as measured in cortex (n > 1)."""

    def __init__(self, exponent: float, gain: float = 1.0) -> None:
        super().__init__()
        if exponent <= 0:
            raise ValueError(f"supralinearity={exponent} must be > 0")
        self.exponent = float(exponent)
        self.gain = float(gain)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gain * torch.sign(x) * x.abs().pow(self.exponent)

    def extra_repr(self) -> str:
        return f"k={self.gain}, n={self.exponent}"
