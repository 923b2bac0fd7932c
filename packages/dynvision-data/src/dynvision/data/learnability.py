"""How fast a temporal model starts to learn the embedded dataset: the figure behind its learnability target.

`bench/data.py --learn-seconds S` runs it for a CPU-time budget, the tests for a fixed number of steps.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from dynvision.data.embedded import generate_embedded


def held_sequences(images: np.ndarray, n_timesteps: int) -> torch.Tensor:
    """uint8 images (N, H, W, C), roughly normalised and held over ``n_timesteps``: (N, T, C, H, W)."""
    tensor = (torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255 - 0.5) / 0.3
    return tensor[:, None].expand(-1, n_timesteps, -1, -1, -1)


def learn_embedded(
    model: nn.Module,
    n_timesteps: int,
    *,
    steps: int | None = None,
    cpu_seconds: float | None = None,
    n_train_per_class: int = 500,
    lr: float = 6e-3,
    batch: int = 32,
    random_batches: bool = True,
) -> tuple[int, float]:
    """Train ``model`` with Adam until ``steps`` or ``cpu_seconds`` run out, on batches drawn at random (from
    torch's global generator) or, with ``random_batches=False``, taken in turn from the shuffled training split.

    The loss scores the second half of the time steps, after the signal has travelled through the areas.
    Returns the steps taken and the last step's accuracy on 200 test images (chance: 0.1).
    """
    if (steps is None) == (cpu_seconds is None):
        raise ValueError("give exactly one of steps and cpu_seconds")
    train_x, train_y = generate_embedded("train", n_train_per_class, seed=0)
    test_x, test_y = generate_embedded("test", 20, seed=0)
    train_y, test_y = torch.from_numpy(train_y), torch.from_numpy(test_y)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    late, taken, start = n_timesteps // 2, 0, time.process_time()
    while taken < steps if steps is not None else time.process_time() - start < cpu_seconds:
        if random_batches:
            index = torch.randint(0, len(train_y), (batch,))
        else:
            index = torch.arange(taken * batch, (taken + 1) * batch) % len(train_y)
        logits = model(held_sequences(train_x[index.numpy()], n_timesteps))
        targets = train_y[index].repeat_interleave(n_timesteps - late)
        loss = nn.functional.cross_entropy(logits[:, late:].flatten(0, 1), targets)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        taken += 1
    model.eval()
    with torch.no_grad():
        accuracy = (model(held_sequences(test_x, n_timesteps))[:, -1].argmax(-1) == test_y).float().mean().item()
    return taken, accuracy
