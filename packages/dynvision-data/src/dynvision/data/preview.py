"""PNG strip of one stimulus sequence over time, so people can look at a protocol instead of reading about it."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from dynvision.data.files import atomic_path
from dynvision.data.normalisation import with_statistics
from dynvision.data.registry import get_dataset_info


def preview_image(
    data_name: str, index: int = 0, data_root: str | os.PathLike | None = None
) -> tuple[torch.Tensor, int]:
    """One normalised test image (C, H, W) and its label; the embedded set is drawn in memory if not on disk."""
    from dynvision.data.layout import raw_dir
    from dynvision.data.loaders import FolderDataset, group_test_samples

    info = with_statistics(get_dataset_info(data_name), data_root)
    if data_name == "embedded" and not raw_dir(data_name, "test", data_root).is_dir():
        from dynvision.data.embedded import generate_embedded

        images, labels = generate_embedded("test", n_per_class=max(1, index // 10 + 1))
        samples = [(images[i], int(labels[i])) for i in range(len(labels))]
        if not 0 <= index < len(samples):
            raise ValueError(f"image index {index} out of range 0..{len(samples) - 1}")
        image = torch.from_numpy(samples[index][0].copy()).permute(2, 0, 1).float() / 255
        mean = torch.tensor(info.mean).view(-1, 1, 1)
        std = torch.tensor(info.std).view(-1, 1, 1)
        return (image - mean) / std, samples[index][1]
    dataset = FolderDataset(group_test_samples(data_name, "all", data_root), info)
    if not 0 <= index < len(dataset):
        raise ValueError(f"image index {index} out of range 0..{len(dataset) - 1}")
    return dataset[index]


def render_strip(
    loader: str,
    stimulus_args: dict,
    output: str | os.PathLike,
    *,
    data_name: str = "embedded",
    index: int = 0,
    seed: int = 0,
    scale: int = 3,
    data_root: str | os.PathLike | None = None,
) -> Path:
    """Apply a stimulus to one image and save the frames left to right with `t` and the label under each."""
    from PIL import Image, ImageDraw
    from torchvision.utils import make_grid

    from dynvision.data.stimuli import create_stimulus

    stimulus = create_stimulus(loader, **stimulus_args)  # validates before any data is read
    output = Path(output)
    if output.suffix.lower() != ".png":
        raise ValueError(f"preview output {output} must end in .png")
    info = with_statistics(get_dataset_info(data_name), data_root)
    image, label = preview_image(data_name, index, data_root)
    frames, labels = stimulus(image[None], torch.tensor([label]), seed=seed)
    mean = torch.tensor(info.mean).view(1, -1, 1, 1)
    std = torch.tensor(info.std).view(1, -1, 1, 1)
    pixels = (frames[0] * std + mean).clamp(0, 1)
    if pixels.shape[1] == 1:
        pixels = pixels.expand(-1, 3, -1, -1)
    pixels = torch.nn.functional.interpolate(pixels, scale_factor=scale, mode="nearest")
    grid = make_grid(pixels, nrow=pixels.shape[0], padding=4, pad_value=1.0)
    strip = Image.fromarray((grid.permute(1, 2, 0) * 255 + 0.5).clamp(0, 255).byte().numpy())
    caption_height = 14
    canvas = Image.new("RGB", (strip.width, strip.height + caption_height), "white")
    canvas.paste(strip, (0, 0))
    draw = ImageDraw.Draw(canvas)
    step = pixels.shape[-1] + 4
    for t, frame_label in enumerate(labels[0].tolist()):
        draw.text((4 + t * step, strip.height), f"t{t} y{frame_label}", fill="black")
    with atomic_path(output) as temporary:
        canvas.save(temporary)
    return output
