"""Leaky-integrator dynamics in physical units.

Every area obeys ``tau dh/dt = -h + drive``. With a time step ``dt`` this is advanced by
``alpha = dt / tau``. Euler gives ``h <- h + alpha (drive - h)``; RK4 evaluates the same right-hand
side four times with the drive held over the step (zero-order hold), which is what the delays
deliver: every delayed signal is constant within one step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import torch
from torch import nn

from dynvision.models.spec import INTEGRATORS


@dataclass
class AreaState:
    """What an area carries from one step to the next (None: nothing has arrived yet).

    ``h``: the integrator's state; ``pool``: the normalisation pool; ``adaptation``: the adaptation state.
    """

    h: torch.Tensor | None = None
    pool: torch.Tensor | None = None
    adaptation: torch.Tensor | None = None

    def detach(self) -> None:
        """Cut the gradient through the state (truncated BPTT)."""
        for field in fields(self):
            value = getattr(self, field.name)
            setattr(self, field.name, None if value is None else value.detach())


class LeakyIntegrator(nn.Module):
    """Advance ``tau dh/dt = -h + drive`` by one step of ``dt`` ms.

    ``tau`` can be learnable (``train_tau``); it is stored as its logarithm so that it stays positive. A fixed
    tau gives alpha from the numbers as written (``tau=dt`` is exactly 1, in every dtype); its logarithm is kept
    in the state dict all the same. A state of ``None`` means "nothing has arrived yet" and is treated as zero.
    """

    def __init__(self, tau: float, dt: float, method: str = "euler", train_tau: bool = False) -> None:
        super().__init__()
        if method not in INTEGRATORS:
            raise ValueError(f"integration={method!r} is unknown; valid: {', '.join(INTEGRATORS)}")
        self.method = method
        self.dt = float(dt)
        self.fixed_alpha = None if train_tau else self.dt / float(tau)
        log_tau = torch.tensor(math.log(tau))
        if train_tau:
            self.log_tau = nn.Parameter(log_tau)
        else:
            self.register_buffer("log_tau", log_tau)

    @property
    def tau(self) -> torch.Tensor:
        return self.log_tau.exp()

    def alpha(self) -> torch.Tensor:
        if self.fixed_alpha is not None:
            return self.log_tau.new_tensor(self.fixed_alpha)
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


def _low_pass(state: torch.Tensor | None, value: torch.Tensor, alpha: float) -> torch.Tensor:
    """One Euler step of ``tau ds/dt = -s + value`` from ``state`` (None: at rest, zero); ``alpha = dt / tau``."""
    if alpha >= 1:
        return value
    if state is None:
        return value * alpha
    return torch.lerp(state, value, alpha)


class DivisiveNormalisation(nn.Module):
    """Divisive normalisation by a pool that integrates over time (Heeger 1992; Carandini & Heeger 2012).

    ``y_c = u_c / (sigma + N)``, where ``u`` is the area's rectified output and the pool ``N`` follows
    ``tau_N dN/dt = -N + mean_c u_c`` at every location. At steady state a uniform drive ``u`` gives
    ``u / (sigma + u)``: a Naka-Rushton contrast response with semi-saturation ``sigma``. Because ``N`` lags
    the drive by ``tau_N``, a strong input rises unnormalised before the pool catches up, so its response
    peaks (and reaches half its peak) sooner than a weak one's: contrast-dependent latency.
    ``tau_N = 0`` normalises by the instantaneous pool.
    """

    def __init__(self, sigma: float, tau: float, dt: float) -> None:
        super().__init__()
        self.sigma, self.tau, self.dt = float(sigma), float(tau), float(dt)
        self.alpha = 1.0 if tau == 0 else self.dt / self.tau

    def forward(self, u: torch.Tensor, pool: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """The normalised output of ``u`` and the pool's next state."""
        pool = _low_pass(pool, u.mean(1, keepdim=True), self.alpha)
        return u / (self.sigma + pool), pool

    def extra_repr(self) -> str:
        return f"sigma={self.sigma:g}, tau={self.tau:g}"


class Adaptation(nn.Module):
    """A subtractive adaptation current: ``drive - g a``, with ``tau_a da/dt = -a + y`` per unit.

    Every unit builds up ``a`` from its own output ``y`` and subtracts it from its drive, so a response
    wanes while a stimulus lasts and a second presentation soon after the first meets a reduced
    response (repetition suppression), recovering as ``a`` decays with ``tau_a`` during the gap.
    """

    def __init__(self, gain: float, tau: float, dt: float) -> None:
        super().__init__()
        self.gain, self.tau, self.dt = float(gain), float(tau), float(dt)
        self.alpha = self.dt / self.tau

    def current(self, drive: torch.Tensor, state: torch.Tensor | None) -> torch.Tensor:
        """The drive minus the adaptation current of the previous step."""
        return drive if state is None else drive - self.gain * state

    def forward(self, y: torch.Tensor, state: torch.Tensor | None) -> torch.Tensor:
        """The adaptation state after an output ``y``."""
        return _low_pass(state, y, self.alpha)

    def extra_repr(self) -> str:
        return f"gain={self.gain:g}, tau={self.tau:g}"
