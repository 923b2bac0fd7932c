"""Image files: what counts as one, how one is decoded at a dataset's resolution, and the label order of
classes defined by folder names."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from dynvision.data.dataset_info import DatasetInfo

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".webp")


def order_class_folders(names: list[str]) -> list[str]:
    """Label order of folder-defined classes: numeric when every name is a number, else sorted strings."""
    if names and all(name.isdigit() for name in names):
        return sorted(names, key=int)
    return sorted(names)


def load_image(path: Path, info: DatasetInfo) -> np.ndarray:
    """Decode one image as uint8 (H, W, C) at the dataset resolution (shorter side, then centre crop)."""
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("L" if info.channels == 1 else "RGB")
        size = info.resolution
        if image.size != (size, size):
            width, height = image.size
            scale = size / min(width, height)
            image = image.resize((max(size, round(width * scale)), max(size, round(height * scale))), Image.BILINEAR)
            left, top = (image.size[0] - size) // 2, (image.size[1] - size) // 2
            image = image.crop((left, top, left + size, top + size))
        array = np.array(image, dtype=np.uint8)
    return array[..., None] if array.ndim == 2 else array
