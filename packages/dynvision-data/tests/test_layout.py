"""Data root, raw layout, interim links and data groups."""

import json
import os

import pytest

from dynvision.data.groups import list_groups, resolve_group
from dynvision.data.layout import (
    class_names,
    interim_dir,
    link_subset,
    order_class_folders,
    processed_path,
    raw_dir,
    resolve_data_root,
)


def test_data_root_argument_then_environment_then_default(monkeypatch, tmp_path):
    monkeypatch.delenv("DYNVISION_DATA_ROOT", raising=False)
    assert str(resolve_data_root()) == "data"
    monkeypatch.setenv("DYNVISION_DATA_ROOT", str(tmp_path))
    assert resolve_data_root() == tmp_path
    assert str(resolve_data_root("elsewhere")) == "elsewhere"


def test_documented_paths(tmp_path):
    assert raw_dir("cifar100", "test", tmp_path) == tmp_path / "raw/cifar100/test"
    assert interim_dir("cifar100", "test_invertebrates", tmp_path) == tmp_path / "interim/cifar100/test_invertebrates"
    assert processed_path("mnist", "val", tmp_path) == tmp_path / "processed/mnist/train_all/val.beton"
    with pytest.raises(ValueError, match="valid choices: train_all, test_<group>"):
        interim_dir("mnist", "test", tmp_path)


def test_embedded_raw_layout(embedded_root):
    for subset, count in (("train", 20), ("test", 5)):
        folder = raw_dir("embedded", subset, embedded_root)
        assert sorted(p.name for p in folder.iterdir()) == sorted(class_names("embedded"))
        assert all(len(list(p.glob("*.png"))) == count for p in folder.iterdir())
    assert not list((embedded_root / "raw/embedded").glob(".staging*"))


def test_numeric_folders_sort_as_numbers():
    assert order_class_folders(["10", "2", "1", "0"]) == ["0", "1", "2", "10"]
    assert order_class_folders(["n02", "n10", "n01"]) == ["n01", "n02", "n10"]


def test_folder_defined_classes_use_numeric_order(tmp_path):
    for name in ("0", "1", "2", "10", "11"):
        (tmp_path / "raw/imagenet/train" / name).mkdir(parents=True)
    assert class_names("imagenet", tmp_path) == ["0", "1", "2", "10", "11"]


def test_link_group_symlinks_class_folders(embedded_root):
    marker = link_subset("embedded", "test_shapes", resolve_group("embedded", "shapes"), embedded_root)
    folder = marker.parent
    assert marker.name == "folder.link"
    linked = sorted(p.name for p in folder.iterdir() if p.is_symlink())
    assert linked == sorted(["disk", "square", "triangle", "cross", "ring"])
    for link in folder.iterdir():
        if link.is_symlink():
            assert os.path.realpath(link) == str((embedded_root / "raw/embedded/test" / link.name).resolve())
    record = json.loads(marker.read_text())
    assert record["classes"] == {"disk": 0, "square": 1, "triangle": 2, "cross": 3, "ring": 4}


def test_links_are_relative_so_the_data_root_can_move(embedded_root, tmp_path):
    import shutil

    link_subset("embedded", "test_one", resolve_group("embedded", "one"), embedded_root)
    moved = tmp_path / "moved"
    shutil.copytree(embedded_root, moved, symlinks=True)
    link = moved / "interim/embedded/test_one/disk"
    assert link.is_symlink() and not os.path.isabs(os.readlink(link))
    assert os.path.realpath(link) == str((moved / "raw/embedded/test/disk").resolve())


def test_relinking_a_smaller_group_drops_old_links(embedded_root):
    link_subset("embedded", "test_tmp", [0, 1, 2], embedded_root)
    marker = link_subset("embedded", "test_tmp", [5], embedded_root)
    assert [p.name for p in marker.parent.iterdir() if p.is_symlink()] == ["grating_horizontal"]


def test_train_all_links_every_class(embedded_root):
    marker = link_subset("embedded", "train_all", resolve_group("embedded", "all"), embedded_root)
    assert len([p for p in marker.parent.iterdir() if p.is_symlink()]) == 10


def test_groups_by_name_keep_full_label_space():
    assert resolve_group("cifar100", "invertebrates") == [6, 7, 14, 18, 24, 26, 45, 77, 79, 99]
    assert resolve_group("embedded", "gratings") == [5, 6, 7]


def test_numeric_group_name_and_indices():
    assert resolve_group("mnist", "01") == [0, 1]
    assert resolve_group("mnist", "odd") == [1, 3, 5, 7, 9]


def test_group_from_explicit_config(tmp_path):
    config = tmp_path / "config_data.yaml"
    config.write_text("data_groups:\n  mnist:\n    '10': ['1', 0]\n    bad: [12]\n")
    assert resolve_group("mnist", "10", config) == [0, 1]
    assert list_groups("mnist", config) == ["all", "10", "bad"]
    with pytest.raises(ValueError, match=r"lists index 12; valid: 0..9"):
        resolve_group("mnist", "bad", config)


def test_unknown_group_names_choices():
    with pytest.raises(
        ValueError, match="unknown data group 'plants' for 'cifar100'; valid choices: all, invertebrates"
    ):
        resolve_group("cifar100", "plants")


def test_link_without_raw_data_says_what_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="dynvision-data get cifar10"):
        link_subset("cifar10", "train_all", [0], tmp_path)
