"""Small models whose drive is known exactly, shared by the dynamics and mechanism tests."""

import torch

from dynvision.models import DyRCNN


def one_area(**dynamics) -> DyRCNN:
    """One area of 4 channels, a bias-free 1x1 conv summing the inputs x 0.25: drive 0.75 x input."""
    model = DyRCNN(channels=(4,), kernel_size=1, recurrence_type="none", t_feedforward=0, **dynamics)
    with torch.no_grad():
        model.layers["V1"].ff.weight.fill_(0.25)
    return model
