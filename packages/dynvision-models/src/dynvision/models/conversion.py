"""Weights of the original models mapped key by key into the zoo's: torchvision's AlexNet and ResNet-18, CORnet-RT,
CordsNet.

:func:`convert` renames a state dict written in a reference layout (``torchvision``, ``cornet``, ``cordsnet``; a
checkpoint that wraps it under ``state_dict`` and DataParallel's ``module.`` prefixes are unwrapped; weight
normalisation's two tensors become the weight they give) and :func:`load_weights` loads
it into a model. Each refusal is one line naming the key: a key with no place in the model, a key the model
needs and the file lacks, a shape that differs. The read-out (``classifier.*``) is the exception: where the file's
read-out does not fit (another number of classes, another head), the model keeps its own, newly initialised
layers of it where they differ, and loads those that fit (AlexNet's hidden layers for a new class layer).
An original model's weights cover each area's pathway (``ff``, ``post``); what the toolbox adds to it (the
integrator's tau, recurrence, skip and feedback where switched on) keeps its initial values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import torch
from torch import nn

READOUT = "classifier."
PATHWAY = re.compile(r"layers\.[^.]+\.(ff|post|input_skip)\.|stem\.")
"""The keys of an area an original model's weights provide."""
_ALEXNET_CONVS = {"0": "conv1", "3": "conv2", "6": "conv3", "8": "conv4", "10": "conv5"}


def _alexnet_key(key: str) -> str | None:
    if match := re.fullmatch(r"features\.(\d+)\.(weight|bias)", key):
        area = _ALEXNET_CONVS.get(match[1])
        return None if area is None else f"layers.{area}.ff.{match[2]}"
    if match := re.fullmatch(r"classifier\.(\d+)\.(weight|bias)", key):
        return f"classifier.mlp.{match[1]}.{match[2]}"
    return None


def _resnet_key(key: str) -> str | None:
    if key == "conv1.weight":
        return "layers.conv1.ff.0.weight"
    if key.startswith("bn1."):
        return "layers.conv1.ff.1." + key.removeprefix("bn1.")
    if match := re.fullmatch(r"(layer[1-4])\.(.+)", key):
        return f"layers.{match[1]}.ff.{match[2]}"
    if key.startswith("fc."):
        return "classifier." + key.removeprefix("fc.")
    return None


def _cornet_key(key: str) -> str | None:
    if match := re.fullmatch(r"(V1|V2|V4|IT)\.(conv_input|norm_input|conv1|norm1)\.(weight|bias)", key):
        stage = "ff" if match[2].endswith("_input") else "post"
        return f"layers.{match[1]}.{stage}.{match[2]}.{match[3]}"
    if key.startswith("decoder.linear."):
        return "classifier." + key.removeprefix("decoder.linear.")
    return None


def _cordsnet_key(key: str) -> str | None:
    if match := re.fullmatch(r"(area_conv|area_area)\.([0-7])\.weight", key):
        pathway = "rec" if match[1] == "area_conv" else "ff.conv"
        return f"layers.area{int(match[2]) + 1}.{pathway}.weight"
    if match := re.fullmatch(r"conv_bias\.([0-7])", key):
        return f"layers.area{int(match[1]) + 1}.ff.position.bias"
    if match := re.fullmatch(r"skip_area\.([0-2])\.weight", key):  # into areas 4, 6 and 8
        return f"layers.area{2 * int(match[1]) + 4}.input_skip.weight"
    if key.startswith("out_fc."):
        return "classifier." + key.removeprefix("out_fc.")
    return {"inp_conv.weight": "stem.0.weight", "inp_skip.weight": "layers.area2.input_skip.weight"}.get(key)


RENAMES: dict[tuple[str, str], Callable[[str], str | None]] = {
    ("torchvision", "AlexNet"): _alexnet_key,
    ("torchvision", "ResNet18"): _resnet_key,
    ("cornet", "CorNetRT"): _cornet_key,
    ("cordsnet", "CordsNet"): _cordsnet_key,
}
"""Which reference layout loads into which zoo model, and how its keys are renamed."""


def state_dict_of(payload: Mapping) -> dict[str, torch.Tensor]:
    """The state dict inside a loaded file: a model file's or a checkpoint's ``state_dict``, without ``module.``."""
    if isinstance(payload.get("state_dict"), Mapping):
        payload = payload["state_dict"]
    return {key.removeprefix("module."): value for key, value in payload.items()}


WEIGHT_NORM = ((".parametrizations.weight.original0", ".parametrizations.weight.original1"), (".weight_g", ".weight_v"))
"""The names of weight normalisation's gain and direction: torch's parametrization, and its older hook."""


def fold_weight_norm(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` with each weight-normalised weight (gain ``g``, direction ``v``) as the weight it gives,
    ``g v / |v|`` with the norm over all but the first dimension (torch's ``weight_norm`` with ``dim=0``)."""
    folded = {}
    for key, value in state.items():
        names = next(((g, d) for g, d in WEIGHT_NORM if key.endswith(g) or key.endswith(d)), None)
        if names is None:
            folded[key] = value
        elif key.endswith(gain := names[0]):  # the direction is folded in with its gain
            base = key.removesuffix(gain)
            v = state.get(base + names[1])
            if v is None:
                raise ValueError(f"weights key {key!r} has no {base + names[1]!r} beside it (weight normalisation)")
            norm = v.flatten(1).norm(dim=1).view(-1, *[1] * (v.dim() - 1))
            folded[base + ".weight"] = v * (value / norm)
    return folded


def convert(payload: Mapping, layout: str, model_name: str) -> dict[str, torch.Tensor]:
    """The state dict in ``payload`` (written in ``layout``) under the zoo model's key names."""
    state = fold_weight_norm(state_dict_of(payload))
    if layout == "dynvision":
        return state
    rename = RENAMES.get((layout, model_name))
    if rename is None:
        valid = ", ".join(f"{model} ({source})" for source, model in RENAMES)
        raise ValueError(f"weights in the {layout} layout cannot load into {model_name}; valid: {valid}")
    converted = {}
    for key, value in state.items():
        new = rename(key)
        if new is None:
            raise ValueError(f"{layout} key {key!r} has no place in {model_name}")
        converted[new] = value
    return converted


def load_weights(
    model: nn.Module, state: Mapping[str, torch.Tensor], new_readout: bool = True, complete: bool = True
) -> list[str]:
    """Load ``state`` (zoo key names) into ``model``; returns the keys left as initialised.

    Every key of the model outside the read-out must be in ``state`` with the same shape; with ``complete=False``
    (an original model's weights) only those of the areas' pathways. ``new_readout=False`` also refuses a
    read-out that does not fit.
    """
    own = model.state_dict()
    name = type(model).__name__
    body = {key for key in own if not key.startswith(READOUT) and (complete or PATHWAY.match(key))}
    for key in sorted(set(state) - set(own)):
        if not key.startswith(READOUT):
            raise ValueError(f"weights key {key!r} has no place in {name}")
    missing = sorted(body - set(state))
    if missing:
        raise ValueError(f"weights lack {missing[0]!r} of {name}")
    for key in sorted(set(state) & set(own) - {k for k in own if k.startswith(READOUT)}):
        if state[key].shape != own[key].shape:
            raise ValueError(
                f"weights key {key!r} has shape {tuple(state[key].shape)}; {name}'s is {tuple(own[key].shape)}"
            )
    fitting = {key for key in state if key in own and state[key].shape == own[key].shape}
    misfits = sorted(key for key in set(state) | set(own) if key.startswith(READOUT) and key not in fitting)
    if misfits and not new_readout:
        shapes = ", ".join(f"{key} {tuple(state[key].shape) if key in state else 'missing'}" for key in misfits)
        raise ValueError(f"the weights' read-out does not fit {name}'s ({shapes}); allow a new read-out")
    loaded = {key: state[key] for key in fitting}
    model.load_state_dict({**own, **loaded})
    return sorted(set(own) - set(loaded))
