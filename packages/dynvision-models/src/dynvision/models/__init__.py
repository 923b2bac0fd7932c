"""dynvision.models: recurrent CNNs with temporal dynamics in physical units, and their registry.

Importing this package is cheap: torch and the model zoo load on first use of a name below, so
command lines stay instant. It never loads Lightning, torchvision, pandas or plotting libraries;
the Lightning system lives in :mod:`dynvision.models.training`.
"""

from importlib import import_module

from dynvision.models.__about__ import __version__

_LAZY = {
    **dict.fromkeys(["ALIASES", "Dynamics", "RECURRENCE_TARGETS", "RECURRENCE_TYPES"], "dynvision.models.spec"),
    **dict.fromkeys(["decode_args", "encode_args", "parse_args"], "dynvision.models.grammar"),
    "AreaSpec": "dynvision.models.network",
    "TemporalNetwork": "dynvision.models.network",
    "Weights": "dynvision.models.weights",
    "file_sha256": "dynvision.models.weights",
    **dict.fromkeys(
        [
            "create_model",
            "get_weights",
            "list_models",
            "list_weights",
            "model_arguments",
            "register_model",
            "register_weights",
            "use_weights_file",
        ],
        "dynvision.models.registry",
    ),
    **dict.fromkeys(
        ["AlexNet", "CordsNet", "CorNetRT", "DyRCNN", "DyRCNNx2", "DyRCNNx4", "DyRCNNx8", "ResNet18"],
        "dynvision.models.zoo",
    ),
}

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
    "decode_args",
    "encode_args",
    "file_sha256",
    "get_weights",
    "list_models",
    "list_weights",
    "model_arguments",
    "parse_args",
    "register_model",
    "register_weights",
    "use_weights_file",
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dynvision.models' has no attribute {name!r}")
