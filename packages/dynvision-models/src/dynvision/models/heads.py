"""Read-outs: what turns the last area's output ``(B, C, H, W)`` into logits at each time step.

A silent last area (nothing has arrived yet) is passed as ``(B, C)`` zeros; every head accepts both.
"""

from __future__ import annotations

import torch
from torch import nn


class AveragedLinear(nn.Linear):
    """Activity averaged over space, then one linear map: the toolbox's read-out, and ResNet's and CORnet's own."""

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        features = features.to(self.weight.dtype)  # bf16 activity is averaged in the read-out's dtype
        return super().forward(features.mean((-2, -1)) if features.dim() > 2 else features)


class AlexNetClassifier(nn.Module):
    """torchvision's AlexNet classifier: 6x6 adaptive average pooling, then dropout, two 4096-unit layers with
    ReLU and dropout, and the class layer (``mlp`` indexes its layers as torchvision's ``classifier`` does)."""

    def __init__(self, channels: int, n_classes: int, hidden: int = 4096, dropout: float = 0.5) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.mlp = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(channels * 36, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        features = features.to(self.mlp[1].weight.dtype)
        if features.dim() == 2:  # a silent area: the same value everywhere
            features = features[..., None, None]
        return self.mlp(self.avgpool(features).flatten(1))
