"""What `dynvision-models info` reports: areas, parameters, FLOPs per time step, first responses."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from dynvision.models.network import TemporalNetwork


def count_flops(model: TemporalNetwork, frames: torch.Tensor) -> int:
    """Forward FLOPs of one call (convs and matrix products), without gradient."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(frames)
    return counter.get_total_flops()


def flops_per_step(model: TemporalNetwork, size: int = 32) -> int:
    """Forward FLOPs of one time step once every area and connection is active (batch of one).

    Measured as the difference between two runs that differ by one frame, both long enough for the
    slowest connection to have arrived (the model's idle steps add the same steps to both).
    """
    dyn = model.dynamics
    settle = max(model.first_response_steps().values()) + max(dyn.delay_rec, dyn.delay_skip, dyn.delay_fb) + 2
    frame = torch.zeros(1, 1, model.input_channels, size, size)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(frame)  # finds the area sizes once, outside the count
        short = count_flops(model, frame.expand(1, settle, -1, -1, -1))
        long = count_flops(model, frame.expand(1, settle + 1, -1, -1, -1))
    finally:
        model.train(was_training)
    return long - short


def describe(model: TemporalNetwork, size: int = 32) -> dict[str, Any]:
    first = model.first_response_steps()
    return {
        "areas": model.areas,
        "parameters": sum(p.numel() for p in model.parameters()),
        "flops_per_step": flops_per_step(model, size),
        "first_response_step": first,
        "first_response_ms": {a: s * model.dt for a, s in first.items()},
        "dt": model.dt,
        "n_timesteps": model.n_timesteps,
        "engine": model.dynamics.engine,
    }
