"""Small models whose drive is known exactly, shared by the dynamics and mechanism tests."""

import torch

from dynvision.models import DyRCNN


def one_area(**dynamics) -> DyRCNN:
    """One area of 4 channels, a 1x1 conv that sums the 3 input channels x 0.25, no bias: drive 0.75 x input."""
    model = DyRCNN(channels=(4,), kernel_size=1, recurrence_type="none", t_feedforward=0, **dynamics)
    with torch.no_grad():
        model.layers["V1"].ff.weight.fill_(0.25)
        model.layers["V1"].ff.bias.zero_()
    return model
