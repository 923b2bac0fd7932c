"""Registry entries: every dataset the guide names is there and self-consistent."""

import pytest

from dynvision.data import get_dataset_info, list_datasets

EXPECTED = ["cifar10", "cifar100", "embedded", "fashionmnist", "imagenet", "imagenette", "mnist", "tinyimagenet"]


def test_all_datasets_registered():
    assert list_datasets() == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_entry_is_consistent(name):
    info = get_dataset_info(name)
    assert info.resolution > 0
    assert len(info.mean) == len(info.std) == info.channels
    assert all(s > 0 for s in info.std)
    assert info.n_classes > 1
    if info.class_names is not None:
        assert len(set(info.class_names)) == info.n_classes
    for resource in info.resources:
        assert resource.url.startswith(("http://", "https://"))
        assert resource.md5 is None or len(resource.md5) == 32
        assert resource.md5 or resource.sha256


def test_class_counts_of_known_datasets():
    assert get_dataset_info("cifar100").n_classes == 100
    assert get_dataset_info("cifar100").class_names[:3] == ("apple", "aquarium_fish", "baby")
    assert get_dataset_info("mnist").class_names == tuple("0123456789")
    assert get_dataset_info("embedded").n_classes == 10
    assert not get_dataset_info("embedded").downloadable
    assert not get_dataset_info("imagenet").downloadable


def test_unknown_dataset_names_choices():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'; valid choices: cifar10, cifar100"):
        get_dataset_info("cifar")
