"""The embedded dataset: 10 classes of shapes, gratings and textures drawn from a seed.

It needs no network, is generated in well under a second and is the default dataset everywhere, so the quick
start, `make experiment` and CI run on real (if synthetic) images. Position, size, colours, background and
phase vary per image, so a network has to learn the form, not a pixel template.
"""

from __future__ import annotations

import numpy as np

from dynvision.data.registry import EMBEDDED_CLASSES

RESOLUTION = 32
SPLIT_STREAMS = {"train": 0, "test": 1}


def generate_embedded(
    split: str = "train", n_per_class: int = 500, seed: int = 0, resolution: int = RESOLUTION
) -> tuple[np.ndarray, np.ndarray]:
    """Draw one split of the embedded dataset.

    Args:
        split: "train" or "test"; the two splits come from independent random streams of the same seed.
        n_per_class: Images per class.
        seed: Seed of the dataset; the same seed always gives the same bytes.
        resolution: Side length in pixels.

    Returns:
        images uint8 (N, H, W, 3) and labels int64 (N,), in a seeded random order.
    """
    if split not in SPLIT_STREAMS:
        raise ValueError(f"unknown split {split!r}; valid choices: {', '.join(SPLIT_STREAMS)}")
    rng = np.random.default_rng([seed, SPLIT_STREAMS[split]])
    images, labels = [], []
    for label, name in enumerate(EMBEDDED_CLASSES):
        images.append(_draw_class(name, n_per_class, rng, resolution))
        labels.append(np.full(n_per_class, label, dtype=np.int64))
    order = rng.permutation(n_per_class * len(EMBEDDED_CLASSES))
    return np.concatenate(images)[order], np.concatenate(labels)[order]


def _draw_class(name: str, n: int, rng: np.random.Generator, res: int) -> np.ndarray:
    """Render n images of one class as uint8 (n, res, res, 3)."""
    scale = res / 32
    coords = np.arange(res, dtype=np.float32)
    y, x = np.meshgrid(coords, coords, indexing="ij")
    cy = rng.uniform(11, 21, size=(n, 1, 1)) * scale
    cx = rng.uniform(11, 21, size=(n, 1, 1)) * scale
    radius = rng.uniform(6, 11, size=(n, 1, 1)) * scale
    dy, dx = y - cy, x - cx
    dist = np.hypot(dx, dy)
    # Textures fill a square window whose size and position vary like the shapes do.
    window = np.maximum(np.abs(dx), np.abs(dy)) <= radius * 1.1
    freq = rng.uniform(3.0, 5.0, size=(n, 1, 1)) / res  # cycles per pixel
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 1))

    if name == "disk":
        mask = dist <= radius
    elif name == "square":
        mask = np.maximum(np.abs(dx), np.abs(dy)) <= radius * 0.8
    elif name == "triangle":
        mask = (dy >= -radius) & (dy <= radius * 0.8) & (np.abs(dx) <= (dy + radius) * 0.6)
    elif name == "cross":
        arm = radius / 3.5
        mask = ((np.abs(dx) <= arm) & (np.abs(dy) <= radius)) | ((np.abs(dy) <= arm) & (np.abs(dx) <= radius))
    elif name == "ring":
        mask = (dist <= radius) & (dist >= radius * 0.55)
    elif name == "grating_horizontal":
        mask = window * (0.5 + 0.5 * np.sin(2 * np.pi * freq * y + phase))
    elif name == "grating_vertical":
        mask = window * (0.5 + 0.5 * np.sin(2 * np.pi * freq * x + phase))
    elif name == "grating_diagonal":
        sign = rng.choice([-1.0, 1.0], size=(n, 1, 1))
        mask = window * (0.5 + 0.5 * np.sin(2 * np.pi * freq * (x + sign * y) / np.sqrt(2) + phase))
    elif name == "checkerboard":
        mask = window * (np.sin(2 * np.pi * freq * x + phase) * np.sin(2 * np.pi * freq * y + phase) > 0)
    elif name == "dots":
        n_dots = 9
        dot_y = cy[..., None] + rng.uniform(-1, 1, size=(n, 1, 1, n_dots)) * radius[..., None]
        dot_x = cx[..., None] + rng.uniform(-1, 1, size=(n, 1, 1, n_dots)) * radius[..., None]
        dot_dist = np.hypot(y[..., None] - dot_y, x[..., None] - dot_x).min(axis=-1)
        mask = dot_dist <= 1.6 * scale
    else:
        raise ValueError(f"unknown embedded class {name!r}; valid choices: {', '.join(EMBEDDED_CLASSES)}")

    background, foreground = _colour_pairs(n, rng)
    mask = mask.astype(np.float32)[..., None]
    image = background[:, None, None, :] * (1 - mask) + foreground[:, None, None, :] * mask
    image += rng.normal(0, 0.03, size=image.shape)
    return np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8)


def _colour_pairs(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random background and foreground colours that differ in brightness enough to be seen."""
    background = rng.uniform(0, 1, size=(n, 3))
    foreground = rng.uniform(0, 1, size=(n, 3))
    too_close = np.abs(foreground.mean(1) - background.mean(1)) < 0.3
    # Push the foreground away from the background brightness where they are too alike.
    direction = np.where(background.mean(1) < 0.5, 1.0, -1.0)[:, None]
    foreground[too_close] = np.clip(background[too_close] + direction[too_close] * 0.5, 0, 1)
    return background, foreground
