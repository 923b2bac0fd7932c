"""dynvision.models: recurrent CNNs with temporal dynamics in physical units, and their registry.

Importing this package loads torch only (no Lightning, torchvision, pandas or plotting libraries);
the Lightning system lives in :mod:`dynvision.models.training`.
"""

from dynvision.models.__about__ import __version__
from dynvision.models.config import Dynamics
from dynvision.models.network import AreaSpec, TemporalNetwork
from dynvision.models.recurrence import RECURRENCE_TARGETS, RECURRENCE_TYPES
from dynvision.models.registry import (
    ALIASES,
    create_model,
    list_models,
    list_weights,
    model_arguments,
    register_model,
    register_weights,
)
from dynvision.models.weights import Weights, file_sha256
from dynvision.models.zoo import AlexNet, CordsNet, CorNetRT, DyRCNN, DyRCNNx2, DyRCNNx4, DyRCNNx8, ResNet18

__all__ = [
    "ALIASES",
    "RECURRENCE_TARGETS",
    "RECURRENCE_TYPES",
    "AlexNet",
    "AreaSpec",
    "CorNetRT",
    "CordsNet",
    "DyRCNN",
    "DyRCNNx2",
    "DyRCNNx4",
    "DyRCNNx8",
    "Dynamics",
    "ResNet18",
    "TemporalNetwork",
    "Weights",
    "__version__",
    "create_model",
    "file_sha256",
    "list_models",
    "list_weights",
    "model_arguments",
    "register_model",
    "register_weights",
]
