"""Training augmentation presets, applied to normalised batches with an explicit generator.

`build_dataloader` applies a preset to the batches as either loader (plain or FFCV) hands them out, so both
paths augment the same samples in the same way: every random number comes from a generator seeded from
(seed, epoch), drawn in a fixed order per batch and never from the pixel values.

Every step keeps the labels of the embedded dataset: its shapes (disk, square, upright triangle, cross, ring),
its horizontal and vertical gratings, checkerboards and dots are mirror-symmetric or random in x, and a mirrored
diagonal grating is the other diagonal, which the class already draws (`embedded._draw_class`). Colours are
random per image there, so brightness and contrast carry no label either. Random erasing is left out: a patch
erased from a disk's centre draws a ring.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch

from dynvision.data.epochs import CountsItsEpochs, epoch_generator, set_epoch
from dynvision.data.registry import DatasetInfo

CROP_PADDING = 4
"""Reflect padding of the random crop at 32 px, scaled with the image side (3.5 -> 4 px at 28, 8 at 64)."""
BRIGHTNESS = 0.15
"""Largest brightness shift, in [0, 1] pixel units."""
CONTRAST = (0.75, 1.25)
"""Range of the contrast factor about each image's mean."""


def random_crop(images: torch.Tensor, info: DatasetInfo, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by up to the padding in x and y, filling the border by reflection."""
    n, channels, height, width = images.shape
    pad = max(1, round(CROP_PADDING * width / 32))
    padded = torch.nn.functional.pad(images, (pad, pad, pad, pad), mode="reflect")
    offsets = torch.randint(0, 2 * pad + 1, (n, 2), generator=generator).to(images.device)
    rows = (offsets[:, :1] + torch.arange(height, device=images.device))[:, None, :, None]
    cols = (offsets[:, 1:] + torch.arange(width, device=images.device))[:, None, None, :]
    batch = torch.arange(n, device=images.device)[:, None, None, None]
    return padded[batch, torch.arange(channels, device=images.device)[None, :, None, None], rows, cols]


def horizontal_flip(images: torch.Tensor, info: DatasetInfo, generator: torch.Generator) -> torch.Tensor:
    """Mirror each image left-right with probability 1/2; none where that changes labels (`DatasetInfo.mirror_safe`)."""
    if not info.mirror_safe:
        return images
    flip = (torch.rand(len(images), generator=generator) < 0.5).to(images.device)
    return torch.where(flip[:, None, None, None], images.flip(-1), images)


def brightness_contrast(images: torch.Tensor, info: DatasetInfo, generator: torch.Generator) -> torch.Tensor:
    """Scale each image's contrast about its mean, shift its brightness, and clip to the valid pixel range."""
    n = len(images)
    contrast = torch.empty(n).uniform_(*CONTRAST, generator=generator).view(-1, 1, 1, 1).to(images.device)
    shift = torch.empty(n).uniform_(-BRIGHTNESS, BRIGHTNESS, generator=generator).view(-1, 1, 1, 1).to(images.device)
    mean = torch.tensor(info.mean, dtype=images.dtype, device=images.device).view(1, -1, 1, 1)
    std = torch.tensor(info.std, dtype=images.dtype, device=images.device).view(1, -1, 1, 1)
    pixels = images * std + mean
    centre = pixels.mean(dim=(1, 2, 3), keepdim=True)
    pixels = (pixels - centre) * contrast + centre + shift
    return (pixels.clamp(0, 1) - mean) / std


Step = Callable[[torch.Tensor, DatasetInfo, torch.Generator], torch.Tensor]

AUGMENTATIONS: dict[str, tuple[Step, ...]] = {
    "none": (),
    "standard": (random_crop, horizontal_flip),
    "strong": (random_crop, horizontal_flip, brightness_contrast),
}
"""The presets: the steps each applies, in order."""


def check_augmentation(preset: str) -> None:
    """Refuse an unknown preset in one line naming the valid ones."""
    if preset not in AUGMENTATIONS:
        raise ValueError(f"unknown augmentation {preset!r}; valid choices: {', '.join(AUGMENTATIONS)}")


def augment(images: torch.Tensor, preset: str, info: DatasetInfo, generator: torch.Generator) -> torch.Tensor:
    """A preset's steps applied to normalised images (B, C, H, W); `none` returns `images` itself."""
    check_augmentation(preset)
    for step in AUGMENTATIONS[preset]:
        images = step(images, info, generator)
    return images


class AugmentedBatches(CountsItsEpochs):
    """A loader whose batches are augmented; each pass over it is the next epoch (counted in `epoch`, set by
    `set_epoch` for itself and the loader it wraps; :mod:`dynvision.data.epochs`)."""

    def __init__(self, loader, preset: str, info: DatasetInfo, seed: int):
        check_augmentation(preset)
        self.loader = loader
        self.preset = preset
        self.info = info
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        set_epoch(self.loader, epoch)

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        generator = epoch_generator(self.seed, self.epoch)
        self.epoch += 1
        for images, labels in self.loader:
            yield augment(images, self.preset, self.info, generator), labels
