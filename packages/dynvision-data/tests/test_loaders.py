"""Plain and FFCV loaders: deterministic split, full label space, partial batches, fresh memory."""

import numpy as np
import pytest
import torch

from dynvision.data.batches import build_dataloader
from dynvision.data.groups import resolve_group
from dynvision.data.loaders import split_indices


def test_split_is_deterministic_disjoint_and_complete():
    a = split_indices(101, 0.9, seed=3)
    b = split_indices(101, 0.9, seed=3)
    np.testing.assert_array_equal(a["train"], b["train"])
    assert len(a["train"]) == 91 and len(a["val"]) == 10
    assert sorted(np.concatenate([a["train"], a["val"]]).tolist()) == list(range(101))
    assert not np.array_equal(split_indices(101, 0.9, seed=4)["val"], a["val"])


def test_train_batches_are_normalised_float_with_int64_labels(embedded_root):
    images, labels = next(iter(build_dataloader("embedded", "train", data_root=embedded_root, batch_size=8)))
    assert images.shape == (8, 3, 32, 32) and images.dtype == torch.float32
    assert labels.dtype == torch.int64
    assert -3 < images.mean().item() < 3 and images.min() < 0 < images.max()


def test_last_partial_batch_kept_unless_drop_last(embedded_root):
    sizes = [len(y) for _, y in build_dataloader("embedded", "val", data_root=embedded_root, batch_size=7)]
    assert sizes == [7, 7, 6]  # 10% of 200 samples
    dropped = [
        len(y) for _, y in build_dataloader("embedded", "val", data_root=embedded_root, batch_size=7, drop_last=True)
    ]
    assert dropped == [7, 7]


def test_train_and_val_partition_train_all(embedded_root):
    def labels(split):
        loader = build_dataloader("embedded", split, data_root=embedded_root, batch_size=64, shuffle=False)
        return torch.cat([y for _, y in loader])

    assert len(labels("train")) + len(labels("val")) == 200
    assert torch.bincount(torch.cat([labels("train"), labels("val")])).tolist() == [20] * 10


def test_the_first_validation_images_cover_every_class_in_the_same_order_each_pass(embedded_root):
    """A capped validation reads only the first images: they must be a sample of every class, not of the first."""
    loader = build_dataloader("embedded", "val", data_root=embedded_root, batch_size=10)
    first = next(iter(loader))[1]  # 10 of the 20 validation images (2 per class); listed by class: classes 0-4
    assert len(set(first.tolist())) >= 6, first
    assert torch.equal(next(iter(loader))[1], first)  # the same images in every epoch


def test_shuffle_is_seeded(embedded_root):
    def order(seed):
        return torch.cat([y for _, y in build_dataloader("embedded", "train", data_root=embedded_root, seed=seed)])

    assert torch.equal(order(1), order(1))
    assert not torch.equal(order(1), order(2))


@pytest.mark.parametrize("augmentation", ["none", "strong"])
def test_the_order_of_each_epoch_is_a_function_of_seed_and_epoch(embedded_root, augmentation):
    """A resumed run sets the epoch and must see what an uninterrupted run sees in that epoch."""

    def loader():
        kwargs = {"data_root": embedded_root, "batch_size": 32, "seed": 3, "augmentation": augmentation}
        return build_dataloader("embedded", "train", **kwargs)

    def epoch(batches):
        images, labels = zip(*batches, strict=True)
        return torch.cat(images), torch.cat(labels)

    straight = loader()
    epochs = [epoch(straight) for _ in range(3)]  # each pass is the next epoch
    assert not torch.equal(epochs[0][1], epochs[2][1])
    resumed = loader()
    resumed.sampler.set_epoch(2)  # what Lightning does at the start of epoch 2 after restoring a checkpoint
    images, labels = epoch(resumed)
    assert torch.equal(labels, epochs[2][1]) and torch.equal(images, epochs[2][0])
    assert torch.equal(epoch(resumed)[1], epoch(straight)[1])  # and the next pass is epoch 3 in both


def test_group_labels_stay_in_full_label_space(embedded_root):
    loader = build_dataloader("embedded", "test", data_root=embedded_root, group="gratings", batch_size=100)
    labels = torch.cat([y for _, y in loader])
    assert sorted(set(labels.tolist())) == resolve_group("embedded", "gratings") == [5, 6, 7]
    assert len(labels) == 15


def test_batches_do_not_share_memory(embedded_root):
    batches = list(build_dataloader("embedded", "val", data_root=embedded_root, batch_size=5))
    first = batches[0][0].clone()
    batches[1][0].zero_()
    assert torch.equal(batches[0][0], first)


def test_bad_arguments_name_choices(embedded_root):
    with pytest.raises(ValueError, match="unknown split 'valid'; valid choices: train, val, test"):
        build_dataloader("embedded", "valid", data_root=embedded_root)
    with pytest.raises(ValueError, match="unknown dataset 'nope'"):
        build_dataloader("nope", data_root=embedded_root)


def test_missing_dataset_says_what_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="dynvision-data get cifar10"):
        build_dataloader("cifar10", data_root=tmp_path)


@pytest.mark.slow
def test_beton_round_trip_matches_plain_loader(embedded_root, betons):
    for split in ("train", "val"):
        plain = list(build_dataloader("embedded", split, data_root=embedded_root, batch_size=16, shuffle=False))
        fast = list(
            build_dataloader("embedded", split, data_root=embedded_root, batch_size=16, shuffle=False, use_ffcv=True)
        )
        assert [len(y) for _, y in fast] == [len(y) for _, y in plain]
        assert len(plain[-1][1]) < 16  # the last partial batch is there
        for (plain_x, plain_y), (fast_x, fast_y) in zip(plain, fast, strict=True):
            assert torch.equal(plain_y, fast_y) and fast_y.dtype == torch.int64
            torch.testing.assert_close(fast_x, plain_x, atol=1e-5, rtol=0)


@pytest.mark.slow
def test_beton_shuffled_epoch_returns_every_sample_in_fresh_memory(embedded_root, betons):
    loader = build_dataloader("embedded", "train", data_root=embedded_root, batch_size=32, use_ffcv=True, seed=5)
    batches = list(loader)
    assert sum(len(y) for _, y in batches) == 180
    assert len({x.data_ptr() for x, _ in batches}) == len(batches)
    kept = batches[0][0].clone()
    list(loader)  # a second epoch must not overwrite what the first handed out
    assert torch.equal(batches[0][0], kept)


@pytest.mark.slow
def test_beton_order_of_an_epoch_is_set_by_set_epoch(embedded_root, betons):
    def loader():
        return build_dataloader("embedded", "train", data_root=embedded_root, batch_size=32, use_ffcv=True, seed=5)

    straight = loader()
    orders = [torch.cat([y for _, y in straight]) for _ in range(2)]
    resumed = loader()
    resumed.sampler.set_epoch(1)
    assert not torch.equal(orders[0], orders[1])
    assert torch.equal(torch.cat([y for _, y in resumed]), orders[1])


@pytest.mark.slow
def test_beton_written_for_another_split_is_refused(embedded_root, betons):
    with pytest.raises(ValueError, match=r"written for ratio=0\.9, seed=0"):
        build_dataloader("embedded", "val", data_root=embedded_root, use_ffcv=True, ratio=0.8)


@pytest.mark.slow
def test_grey_dataset_round_trip_keeps_one_channel(tmp_path):
    pytest.importorskip("ffcv")
    from PIL import Image

    from dynvision.data.ffcv_io import write_betons

    rng = np.random.default_rng(0)
    for digit in range(10):
        for subset in ("train", "test"):
            folder = tmp_path / "raw/mnist" / subset / str(digit)
            folder.mkdir(parents=True)
            for i in range(3):
                Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8)).save(folder / f"{i}.png")
    write_betons("mnist", data_root=tmp_path, ratio=0.8, seed=0)
    kwargs = {"data_root": tmp_path, "batch_size": 4, "shuffle": False, "ratio": 0.8}
    plain = list(build_dataloader("mnist", "val", **kwargs))
    fast = list(build_dataloader("mnist", "val", use_ffcv=True, **kwargs))
    assert fast[0][0].shape == (4, 1, 28, 28)
    assert torch.equal(torch.cat([y for _, y in plain]), torch.cat([y for _, y in fast]))
    torch.testing.assert_close(torch.cat([x for x, _ in fast]), torch.cat([x for x, _ in plain]), atol=1e-5, rtol=0)
