"""Model registry: names to constructors, argument checking (the grammar of :mod:`dynvision.models.spec`), weights.

The built-in models are the zoo's classes named in :data:`dynvision.models.spec.BUILTIN_MODELS`.
Third-party packages add models through the entry-point group ``dynvision.models`` (each entry point
is imported once, and is expected to call :func:`register_model`). Weights are the published ones
(:mod:`dynvision.models.pretrained`), records registered in code, and those of registry files
(:func:`use_weights_file`); their keys are mapped by :mod:`dynvision.models.conversion`.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, TypeVar

from torch import nn

from dynvision.models import zoo
from dynvision.models.conversion import convert, load_weights
from dynvision.models.pretrained import BUILTIN_WEIGHTS, read_weights_file
from dynvision.models.spec import BUILTIN_MODELS, DYNAMICS_ARGS, map_arguments
from dynvision.models.weights import Weights

ENTRY_POINT_GROUP = "dynvision.models"

_MODELS: dict[str, Callable[..., nn.Module]] = {name: getattr(zoo, name) for name in BUILTIN_MODELS}
_WEIGHTS: dict[str, dict[str, Weights]] = {}
_plugins_loaded = False
M = TypeVar("M", bound=Callable[..., nn.Module])


def register_model(name: str | None = None) -> Callable[[M], M]:
    """Decorator adding a model class (or factory) under ``name`` (default: its own name)."""

    def decorate(factory: M) -> M:
        key = name or factory.__name__
        if key in _MODELS:
            raise ValueError(f"a model named {key!r} is already registered")
        _MODELS[key] = factory
        return factory

    return decorate


def _load_plugins() -> None:
    global _plugins_loaded
    if not _plugins_loaded:
        _plugins_loaded = True
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            entry.load()


def list_models() -> list[str]:
    _load_plugins()
    return sorted(_MODELS)


def get_model_class(name: str) -> Callable[..., nn.Module]:
    _load_plugins()
    if name not in _MODELS:
        raise ValueError(f"model {name!r} is unknown; valid: {', '.join(sorted(_MODELS))}")
    return _MODELS[name]


def model_arguments(name: str) -> list[str]:
    """Every keyword a model accepts (its own plus the shared dynamics arguments)."""
    factory = get_model_class(name)
    params = inspect.signature(factory).parameters.values()
    names = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if any(p.kind is p.VAR_KEYWORD for p in params):
        names += [a for a in DYNAMICS_ARGS if a not in names]
    return names


def resolve_arguments(name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Map aliases to long names, drop ``None`` (= the model's default), refuse unknown keys."""
    return map_arguments(name, kwargs, model_arguments(name))


def register_weights(model_name: str, tag: str, weights: Weights) -> None:
    """Make ``create_model(model_name, weights=tag)`` load ``weights``."""
    tags = _WEIGHTS.setdefault(model_name, {})
    if tag in tags or tag in BUILTIN_WEIGHTS.get(model_name, {}):
        raise ValueError(f"weights {tag!r} of {model_name} are already registered")
    tags[tag] = weights


def use_weights_file(path: str | os.PathLike) -> None:
    """Register the records of a registry file (see :mod:`dynvision.models.pretrained`); a file read twice, or
    a record equal to a registered one, changes nothing."""
    for model_name, tags in read_weights_file(path).items():
        for tag, weights in tags.items():
            if _WEIGHTS.get(model_name, {}).get(tag) != weights:
                register_weights(model_name, tag, weights)


def list_weights(model_name: str) -> list[str]:
    _load_plugins()
    return sorted({*BUILTIN_WEIGHTS.get(model_name, {}), *_WEIGHTS.get(model_name, {})})


def get_weights(model_name: str, tag: str) -> Weights:
    """The record registered as ``tag`` for ``model_name``."""
    if tag in _WEIGHTS.get(model_name, {}):
        return _WEIGHTS[model_name][tag]
    if tag in BUILTIN_WEIGHTS.get(model_name, {}):
        return BUILTIN_WEIGHTS[model_name][tag]()
    raise ValueError(
        f"weights {tag!r} of {model_name} are unknown; valid: {', '.join(list_weights(model_name)) or 'none'}"
    )


def create_model(name: str, weights: str | Weights | None = None, new_readout: bool = True, **kwargs: Any) -> nn.Module:
    """Build a registered model; ``weights`` is a registered tag or a :class:`Weights` record.

    The weights' keys are mapped from their layout (:func:`~dynvision.models.conversion.convert`); where their
    read-out does not fit the model (another ``n_classes``), the model keeps a new one unless ``new_readout``
    is False.
    """
    factory = get_model_class(name)
    model = factory(**resolve_arguments(name, kwargs))
    if weights is not None:
        record = get_weights(name, weights) if isinstance(weights, str) else weights
        state = convert(record.get_state_dict(), record.layout, name)
        load_weights(model, state, new_readout, complete=record.layout == "dynvision")
    return model
