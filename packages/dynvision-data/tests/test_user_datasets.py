"""A dataset of one's own from config_data.yaml: registered, checked, linked, normalised with its own statistics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from dynvision.data.batches import build_dataloader
from dynvision.data.get import get_data
from dynvision.data.normalisation import statistics_path
from dynvision.data.registry import get_dataset_info, list_datasets

CLASSES = ("apple", "pear", "plum")


def write_folder(root: Path, per_class: int = 4, size: int = 20, mode: str = "RGB") -> Path:
    """train/ and test/ class folders of small images whose brightness depends on the class (not centred on 0.5)."""
    rng = np.random.default_rng(0)
    for subset in ("train", "test"):
        for label, name in enumerate(CLASSES):
            (root / subset / name).mkdir(parents=True)
            for index in range(per_class):
                shape = (size, size, 3) if mode == "RGB" else (size, size)
                pixels = rng.integers(20 + 40 * label, 90 + 40 * label, shape, dtype=np.uint8)
                Image.fromarray(pixels, mode).save(root / subset / name / f"{index}.png")
    return root


@pytest.fixture
def configured(tmp_path, monkeypatch):
    """A data config naming the folder `mine` (16 px, RGB), used through $DYNVISION_DATA_CONFIG."""
    folder = write_folder(tmp_path / "folder")

    def configure(**entry):
        config = tmp_path / "config_data.yaml"
        fields = {"path": str(folder), "resolution": 16, "channels": 3, **entry}
        config.write_text(yaml.safe_dump({"datasets": {"mine": fields}}))
        monkeypatch.setenv("DYNVISION_DATA_CONFIG", str(config))
        return folder

    configure()
    return configure


def test_a_configured_folder_is_a_dataset_with_its_classes(configured):
    info = get_dataset_info("mine")
    assert "mine" in list_datasets() and "embedded" in list_datasets()
    assert info.class_names == CLASSES and info.n_classes == 3
    assert (info.resolution, info.channels, info.mean) == (16, 3, None)


def test_get_links_the_folder_and_stores_the_statistics_of_its_training_images(configured, tmp_path):
    folder = configured()
    root = tmp_path / "data"
    get_data("mine", root, progress=False)
    assert (root / "raw" / "mine" / "train").resolve() == folder.resolve() / "train"
    stored = yaml.safe_load(statistics_path("mine", root).read_text())
    files = sorted(folder.glob("train/*/*"))
    pixels = np.stack([np.asarray(Image.open(p).convert("RGB").resize((16, 16), Image.BILINEAR)) for p in files]) / 255
    assert stored["images"] == 12
    np.testing.assert_allclose(stored["mean"], pixels.reshape(-1, 3).mean(0), atol=1e-5)
    np.testing.assert_allclose(stored["std"], pixels.reshape(-1, 3).std(0), atol=1e-5)
    images = torch.cat([x for x, _ in build_dataloader("mine", "train", data_root=root, ratio=1.0, batch_size=32)])
    assert images.shape == (12, 3, 16, 16)
    assert images.mean().abs() < 1e-3 and abs(images.std().item() - 1) < 0.05  # its own statistics, not ImageNet's
    labels = torch.cat([y for _, y in build_dataloader("mine", "test", data_root=root, batch_size=32)])
    assert sorted(set(labels.tolist())) == [0, 1, 2]


def test_a_grey_folder_keeps_one_channel(configured, tmp_path):
    folder = write_folder(tmp_path / "grey", mode="L")
    configured(path=str(folder), channels=1)
    get_data("mine", tmp_path / "data", progress=False)
    images, _ = next(iter(build_dataloader("mine", "test", data_root=tmp_path / "data")))
    assert images.shape[1:] == (1, 16, 16)


def test_loaders_refuse_a_folder_that_was_never_got(configured, tmp_path):
    with pytest.raises(ValueError, match=r"statistics of 'mine' .* are missing; run `dynvision-data get mine`$"):
        build_dataloader("mine", "test", data_root=tmp_path / "empty")


def break_folder(folder: Path, how: str) -> None:
    if how == "no classes":
        for path in sorted(folder.glob("train/*/*")):
            path.unlink()
        for path in folder.glob("train/*"):
            path.rmdir()
    elif how == "text file":
        (folder / "train" / "apple" / "notes.txt").write_text("not an image")
    elif how == "0-byte":
        (folder / "test" / "pear" / "9.png").write_bytes(b"")
    elif how == "broken":
        (folder / "train" / "plum" / "9.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    elif how == "mismatch":
        (folder / "test" / "plum").rename(folder / "test" / "cherry")
    elif how == "no test":
        (folder / "test").rename(folder / "elsewhere")


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("no classes", r"folder/train has no class folders \(train/<class>/<image>\)$"),
        ("text file", r"apple/notes.txt is not an image \(.png, .*\); move it out of the folder$"),
        ("0-byte", r"pear/9.png is empty \(0 bytes\); replace or remove it$"),
        ("broken", r"plum/9.png cannot be read as an image \(\w+\); replace or remove it$"),
        ("mismatch", r"class 'cherry' is only in test/; train/ and test/ must hold the same classes$"),
        ("no test", r"folder/test does not exist; the folder needs train/ and test/ class folders$"),
    ],
)
def test_a_bad_folder_is_one_line_and_nothing_is_linked(configured, tmp_path, how, message):
    break_folder(configured(), how)
    with pytest.raises(ValueError, match=message) as error:
        get_data("mine", tmp_path / "data", progress=False)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "data" / "raw" / "mine" / "train").exists()
    assert not statistics_path("mine", tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"resolution": 16.5}, r"datasets.mine: resolution 16.5 must be a whole number of px >= 8$"),
        ({"channels": 2}, r"datasets.mine: channels 2 must be 1 \(grey\) or 3 \(RGB\)$"),
        ({"colour": "rgb"}, r"datasets.mine: unknown key 'colour'; valid choices: path, resolution, channels, desc"),
        ({"path": "/nowhere"}, r"/nowhere/train does not exist"),
    ],
)
def test_a_bad_entry_is_one_line_naming_the_key(configured, entry, message):
    configured(**entry)
    with pytest.raises(ValueError, match=message):
        get_dataset_info("mine")


def test_a_configured_name_may_not_shadow_a_built_in_dataset(tmp_path, monkeypatch):
    config = tmp_path / "config_data.yaml"
    config.write_text(yaml.safe_dump({"datasets": {"mnist": {"path": "x", "resolution": 28, "channels": 1}}}))
    monkeypatch.setenv("DYNVISION_DATA_CONFIG", str(config))
    with pytest.raises(ValueError, match=r"datasets.mnist is a built-in dataset; give yours another name$"):
        list_datasets()
