"""The epoch a training loader is in, so that its random draws are a pure function of (seed, epoch).

A run resumed from a checkpoint must see the images of its remaining epochs in the order, and with the
augmentation, of an uninterrupted run. Every training loader of `build_dataloader` therefore keeps an epoch
counter: each pass over the loader is the next epoch, and ``set_epoch(epoch)`` (which PyTorch Lightning
calls on ``loader.sampler`` at the start of every epoch, also after resuming) sets it.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """A CPU generator for one epoch: a pure function of (seed, epoch), different for every pair."""
    state = np.random.SeedSequence([seed, epoch]).generate_state(1, np.uint64)[0]
    return torch.Generator().manual_seed(int(state))


class EpochShuffle(torch.utils.data.Sampler[int]):
    """A random order of ``n_samples`` drawn from (seed, epoch); each pass is the next epoch."""

    def __init__(self, n_samples: int, seed: int):
        self.n_samples = n_samples
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n_samples

    def __iter__(self) -> Iterator[int]:
        order = torch.randperm(self.n_samples, generator=epoch_generator(self.seed, self.epoch))
        self.epoch += 1
        return iter(order.tolist())


def set_epoch(loader: object, epoch: int) -> None:
    """Set the epoch of a loader's sampler (as Lightning does at the start of every epoch); no-op without one."""
    sampler = getattr(loader, "sampler", None)
    if callable(getattr(sampler, "set_epoch", None)):
        sampler.set_epoch(epoch)


class CountsItsEpochs:
    """Base of the loader wrappers that count their own epoch (augmented, FFCV batches): Lightning sets the epoch
    through ``loader.sampler.set_epoch``, so the wrapper is its own sampler; it hands out whole batches."""

    batch_sampler = None

    @property
    def sampler(self) -> CountsItsEpochs:
        return self

    def set_epoch(self, epoch: int) -> None:
        raise NotImplementedError
