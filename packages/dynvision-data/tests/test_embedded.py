"""The embedded dataset: deterministic, balanced, and learnable by a tiny conv net."""

import numpy as np
import pytest
import torch

from dynvision.data.embedded import generate_embedded


def test_same_seed_same_bytes_other_seed_other_bytes():
    a_images, a_labels = generate_embedded("train", 5, seed=3)
    b_images, b_labels = generate_embedded("train", 5, seed=3)
    c_images, _ = generate_embedded("train", 5, seed=4)
    np.testing.assert_array_equal(a_images, b_images)
    np.testing.assert_array_equal(a_labels, b_labels)
    assert not np.array_equal(a_images, c_images)


def test_shape_balance_and_split_independence():
    images, labels = generate_embedded("test", 7, seed=0)
    assert images.shape == (70, 32, 32, 3) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [7] * 10
    train, _ = generate_embedded("train", 7, seed=0)
    assert not np.array_equal(images, train)


def test_images_vary_in_background_and_content():
    images, _ = generate_embedded("train", 10, seed=0)
    corners = images[:, 0, 0].astype(float)
    assert corners.std(axis=0).min() > 30  # backgrounds differ between images


def test_unknown_split():
    with pytest.raises(ValueError, match="unknown split 'val'; valid choices: train, test"):
        generate_embedded("val")


def _tiny_cnn() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveMaxPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(32, 10),
    )


def test_learnable_by_a_tiny_cnn():
    """A few seconds of training on 1,500 images must reach well above the 10% chance level."""
    torch.manual_seed(0)

    def to_tensor(images):
        return (torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255 - 0.5) / 0.25

    train_x, train_y = generate_embedded("train", 150, seed=0)
    test_x, test_y = generate_embedded("test", 30, seed=0)
    train_x, test_x = to_tensor(train_x), to_tensor(test_x)
    train_y, test_y = torch.from_numpy(train_y), torch.from_numpy(test_y)
    net = _tiny_cnn()
    optimiser = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(3):
        order = torch.randperm(len(train_y))
        for start in range(0, len(order), 50):
            batch = order[start : start + 50]
            loss = torch.nn.functional.cross_entropy(net(train_x[batch]), train_y[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    with torch.no_grad():
        accuracy = (net(test_x).argmax(1) == test_y).float().mean().item()
    assert accuracy >= 0.5, f"accuracy {accuracy:.2f} is not above 5x chance"


@pytest.mark.slow
@pytest.mark.integration
def test_dyrcnnx4_starts_learning_the_embedded_dataset():
    """The trend behind the 2-CPU-minute target: a few dozen DyRCNNx4 steps already beat chance clearly."""
    models = pytest.importorskip("dynvision.models")
    from dynvision.data.learnability import learn_embedded

    torch.manual_seed(0)
    model = models.create_model("DyRCNNx4", n_classes=10, tsteps=6)
    _, accuracy = learn_embedded(model, 6, steps=30, n_train_per_class=100, random_batches=False)
    assert accuracy >= 0.15, f"DyRCNNx4 test accuracy {accuracy:.3f} after 30 steps is not above chance (0.10)"
