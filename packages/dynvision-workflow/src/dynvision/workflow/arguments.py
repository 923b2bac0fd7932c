"""Argument strings of file names: ``{rctype: full, tsteps: 20}`` <-> ``:rctype=full+tsteps=20``.

Model and data-loader arguments live in file names so that every parameter combination gets its
own files. The encoding keeps the order of the keys as configured; list values are swept with
:func:`args_product`. Keys and values may not contain the separators ``: + = _ /`` (``_``
separates the fields of a file name), which :func:`encode_args` checks.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any

from dynvision.workflow.values import parse_scalar

_TOKEN = re.compile(r"[A-Za-z0-9.\-]+")
ARGS_PATTERN = r"(:[A-Za-z0-9.\-]+=[A-Za-z0-9.\-]+(\+[A-Za-z0-9.\-]+=[A-Za-z0-9.\-]+)*)?"
"""Regular expression of an encoded argument string (also used as Snakemake wildcard constraint)."""


class ArgumentError(ValueError):
    """An argument string or mapping cannot be encoded or decoded."""


def encode_args(args: Mapping[str, Any] | None) -> str:
    """Encode scalar arguments as ``:key=value+key=value`` (empty mapping -> empty string)."""
    if not args:
        return ""
    parts = []
    for key, value in args.items():
        if isinstance(value, (list, tuple, dict)):
            raise ArgumentError(f"argument {key!r} has a non-scalar value {value!r}; sweep lists with args_product")
        text = str(value)
        for token in (str(key), text):
            if not _TOKEN.fullmatch(token):
                raise ArgumentError(
                    f"argument {key}={text!r} cannot go into a file name: keys and values may only use "
                    "letters, digits, '.' and '-'"
                )
        parts.append(f"{key}={text}")
    return ":" + "+".join(parts)


def decode_args(encoded: str) -> dict[str, Any]:
    """Decode ``:key=value+...`` back into a dict with typed values (``20`` -> 20)."""
    if encoded in ("", None):
        return {}
    if not re.fullmatch(ARGS_PATTERN, encoded):
        raise ArgumentError(
            f"malformed argument string {encoded!r}: expected ':key=value+key=value', e.g. ':rctype=full+tsteps=20'"
        )
    result: dict[str, Any] = {}
    for part in encoded[1:].split("+"):
        key, _, value = part.partition("=")
        result[key] = parse_scalar(value)
    return result


def args_product(args: Mapping[str, Any] | str | None) -> list[str]:
    """All encoded argument strings of the Cartesian product of the list values of ``args``.

    ``{rctype: [full, self], tsteps: 20}`` -> ``[':rctype=full+tsteps=20', ':rctype=self+tsteps=20']``.
    An already encoded string is returned as the only element.
    """
    if isinstance(args, str):
        decode_args(args)
        return [args]
    if not args:
        return [""]
    keys = list(args)
    choices = [value if isinstance(value, (list, tuple)) else [value] for value in args.values()]
    return [encode_args(dict(zip(keys, combination, strict=True))) for combination in itertools.product(*choices)]
