"""Augmentation presets: shapes kept, `none` the identity, seeded per epoch, the same on both loader paths."""

import pytest
import torch

from dynvision.data.augment import AUGMENTATIONS, augment, horizontal_flip
from dynvision.data.batches import build_dataloader
from dynvision.data.epochs import epoch_generator
from dynvision.data.registry import get_dataset_info


def batches(root, preset, passes=1, **kwargs):
    """Batches of the train split in file order, `passes` epochs of one loader."""
    kwargs = {"data_root": root, "batch_size": 16, "shuffle": False, "augmentation": preset, **kwargs}
    loader = build_dataloader("embedded", "train", **kwargs)
    return [list(loader) for _ in range(passes)]


@pytest.mark.parametrize("preset", list(AUGMENTATIONS))
@pytest.mark.parametrize("data_name", ["embedded", "mnist"])
def test_every_preset_keeps_shape_dtype_and_the_pixel_range(preset, data_name):
    info = get_dataset_info(data_name)
    mean = torch.tensor(info.mean).view(1, -1, 1, 1)
    std = torch.tensor(info.std).view(1, -1, 1, 1)
    images = (torch.rand(8, info.channels, info.resolution, info.resolution) - mean) / std
    out = augment(images, preset, info, epoch_generator(0, 0))
    assert out.shape == images.shape and out.dtype == torch.float32
    pixels = out * std + mean
    assert pixels.min() >= -1e-5 and pixels.max() <= 1 + 1e-5


def test_none_is_the_identity(embedded_root):
    images = torch.randn(4, 3, 32, 32)
    assert augment(images, "none", get_dataset_info("embedded"), epoch_generator(0, 0)) is images
    loader = build_dataloader("embedded", "train", data_root=embedded_root, augmentation="none")
    assert isinstance(loader, torch.utils.data.DataLoader)


def test_same_seed_same_batches_and_epochs_differ(embedded_root):
    plain = batches(embedded_root, "none")[0]
    for preset in ("standard", "strong"):
        first, second = batches(embedded_root, preset, passes=2)
        again = batches(embedded_root, preset, passes=2)
        for (x, y), (x_again, y_again) in zip(first + second, again[0] + again[1], strict=True):
            assert torch.equal(x, x_again) and torch.equal(y, y_again)
        assert all(torch.equal(y, y_plain) for (_, y), (_, y_plain) in zip(first, plain, strict=True))
        assert not torch.equal(first[0][0], plain[0][0])
        assert not torch.equal(first[0][0], second[0][0])
        assert not torch.equal(first[0][0], batches(embedded_root, preset, seed=1)[0][0][0])


def test_flip_mirrors_whole_images_and_never_digits():
    images = torch.randn(64, 3, 8, 8)
    out = horizontal_flip(images, get_dataset_info("embedded"), epoch_generator(0, 0))
    flipped = torch.tensor([torch.equal(o, i.flip(-1)) for o, i in zip(out, images, strict=True)])
    kept = torch.tensor([torch.equal(o, i) for o, i in zip(out, images, strict=True)])
    assert (flipped | kept).all() and 16 < int(flipped.sum()) < 48
    assert horizontal_flip(images, get_dataset_info("mnist"), epoch_generator(0, 0)) is images


def test_bad_presets_name_choices(embedded_root):
    with pytest.raises(ValueError, match="unknown augmentation 'heavy'; valid choices: none, standard, strong"):
        build_dataloader("embedded", "train", data_root=embedded_root, augmentation="heavy")
    with pytest.raises(ValueError, match="augmentation 'standard' is for the train split only; use 'none' for 'val'"):
        build_dataloader("embedded", "val", data_root=embedded_root, augmentation="standard")


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["standard", "strong"])
def test_ffcv_path_gives_the_same_augmented_samples(embedded_root, betons, preset):
    plain = batches(embedded_root, preset, passes=2)
    fast = batches(embedded_root, preset, passes=2, use_ffcv=True)
    for (plain_x, plain_y), (fast_x, fast_y) in zip(plain[0] + plain[1], fast[0] + fast[1], strict=True):
        assert torch.equal(plain_y, fast_y)
        torch.testing.assert_close(fast_x, plain_x, atol=1e-5, rtol=0)
