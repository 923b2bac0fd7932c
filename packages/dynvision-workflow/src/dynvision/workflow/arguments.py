"""Argument strings of file names: ``{rctype: full, tsteps: 20}`` <-> ``:rctype=full+tsteps=20``.

Model and data-loader arguments live in file names so that every parameter combination gets its own
files. The grammar is the models package's (:mod:`dynvision.models.spec`): keys sorted, values written
canonically, so one combination has one name. Model arguments are first brought to their canonical
form (short names, typed values: ``tau=10.0`` and ``tau=10`` are one model). List values are swept with
:func:`args_product`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

from dynvision.models import grammar, spec

ARGS_PATTERN = grammar.ARGS_PATTERN
"""Regular expression of an encoded argument string (also used as Snakemake wildcard constraint)."""


class ArgumentError(ValueError):
    """An argument string or mapping cannot be encoded or decoded."""


def encode_args(args: Mapping[str, Any] | None) -> str:
    """Encode scalar arguments as ``:key=value+key=value`` (empty mapping -> empty string)."""
    try:
        return grammar.encode_args(args)
    except ValueError as error:
        raise ArgumentError(str(error)) from None


def decode_args(encoded: str | None) -> dict[str, Any]:
    """Decode ``:key=value+...`` back into a dict with typed values (``20`` -> 20)."""
    try:
        return grammar.decode_args(encoded)
    except ValueError as error:
        raise ArgumentError(str(error)) from None


def model_args_canonical(args: Mapping[str, Any]) -> dict[str, Any]:
    """Model arguments under their short names with typed values (one model, one file name)."""
    try:
        return spec.canonical_model_args(args)
    except ValueError as error:
        raise ArgumentError(str(error)) from None


def args_product(
    args: Mapping[str, Any] | str | None, canonical: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None
) -> list[str]:
    """All encoded argument strings of the Cartesian product of the list values of ``args``, each once.

    ``{rctype: [full, self], tsteps: 20}`` -> ``[':rctype=full+tsteps=20', ':rctype=self+tsteps=20']``.
    ``canonical`` brings each combination to its canonical form first (:func:`model_args_canonical`).
    An encoded string is decoded and encoded again, which gives its canonical spelling.
    """
    if isinstance(args, str):
        args = decode_args(args)
    if not args:
        return [""]
    keys = list(args)
    choices = [value if isinstance(value, list) else [value] for value in args.values()]
    encoded = []
    for combination in itertools.product(*choices):
        point = dict(zip(keys, combination, strict=True))
        text = encode_args(canonical(point) if canonical else point)
        if text not in encoded:
            encoded.append(text)
    return encoded
