"""The grammar of argument text, known without torch: one scalar rule, ``key=value`` strings, typed fields.

``rctype=full tsteps=20``, ``rctype=full+tsteps=20`` and ``:rctype=full+tsteps=20`` all read as
``{"rctype": "full", "tsteps": 20}``. ``none`` stays text (the recurrence type of a feedforward control),
``null`` is None, ``true``/``false`` are booleans, numbers with a leading zero (``0001``) stay text,
``36,64`` is a tuple; :func:`format_value` writes each back canonically (``10.0`` -> ``10``), so an
encoded string is one spelling per set of values. What a model accepts is :mod:`dynvision.models.spec`.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

# --- values -------------------------------------------------------------------------------------------
_INT = re.compile(r"[+-]?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[+-]?((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_WORDS = {"true": True, "false": False, "null": None}


def parse_scalar(text: str) -> Any:
    """One bare word as a value: ``20`` -> 20, ``0.5`` -> 0.5, ``true`` -> True, ``null`` -> None.

    ``none`` stays the text "none" (the recurrence type of a feedforward control); numbers with a leading
    zero (``0001``) and quoted words stay text.
    """
    word = text.strip()
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "'\"":
        return word[1:-1]
    if word.lower() in _WORDS:
        return _WORDS[word.lower()]
    if _INT.fullmatch(word):
        return int(word)
    if _FLOAT.fullmatch(word):
        return float(word)
    return word


def parse_value(text: str) -> Any:
    """A value of a ``key=value`` pair: a scalar, or a tuple when it holds commas (``36,64``)."""
    if "," in text:
        return tuple(parse_scalar(part) for part in text.split(",") if part.strip())
    return parse_scalar(text)


def format_value(value: Any) -> str:
    """The canonical text of a value, which :func:`parse_value` reads back (``10.0`` -> ``10``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return ",".join(format_value(item) for item in value)
    return str(value)


# --- argument strings ---------------------------------------------------------------------------------
_KEY = r"[A-Za-z0-9.\-]+"
_VALUE = r"[A-Za-z0-9.,\-]+"
ARGS_PATTERN = rf"(:{_KEY}={_VALUE}(\+{_KEY}={_VALUE})*)?"
"""Regular expression of an encoded argument string (also the workflow's wildcard constraint)."""


def parse_args(items: str | Iterable[str] | None) -> dict[str, Any]:
    """``key=value`` items (each may hold several joined by ``+``, with a leading ``:``) as a dict."""
    if items is None:
        return {}
    args: dict[str, Any] = {}
    for item in [items] if isinstance(items, str) else items:
        for pair in item.strip().lstrip(":").split("+"):
            if not pair.strip():
                continue
            key, sep, value = pair.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"argument {pair!r} is not of the form key=value (e.g. rctype=full)")
            args[key.strip()] = parse_value(value)
    return args


def decode_args(encoded: str | None) -> dict[str, Any]:
    """The arguments of a file name's argument string (``:rctype=full+tsteps=20``; empty -> {})."""
    if not encoded:
        return {}
    if not re.fullmatch(ARGS_PATTERN, encoded):
        raise ValueError(
            f"malformed argument string {encoded!r}: expected ':key=value+key=value', e.g. ':rctype=full+tsteps=20'"
        )
    return parse_args(encoded)


def encode_args(args: Mapping[str, Any] | None) -> str:
    """``{"tsteps": 20, "rctype": "full"}`` -> ``:rctype=full+tsteps=20``: keys sorted, values canonical.

    Keys and values go into file names, where ``_`` separates fields and ``/`` folders: both may only use
    letters, digits, ``.`` and ``-`` (values also ``,``).
    """
    if not args:
        return ""
    parts = []
    for key in sorted(args):
        value = args[key]
        if isinstance(value, dict) or (isinstance(value, (list, tuple)) and not value):
            raise ValueError(f"argument {key}={value!r} cannot go into a file name")
        text = format_value(value)
        if not re.fullmatch(_KEY, str(key)):
            raise ValueError(
                f"argument name {key!r} cannot go into a file name: names may only use letters, digits, '.' and '-'"
            )
        if not re.fullmatch(_VALUE, text):
            raise ValueError(
                f"argument {key}={text!r} cannot go into a file name: values may only use letters, digits, "
                "'.', ',' and '-'"
            )
        parts.append(f"{key}={text}")
    return ":" + "+".join(parts)


# --- typed fields -------------------------------------------------------------------------------------
def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def coerce(name: str, value: Any, kind: str) -> Any:
    """``value`` as a field of type ``kind`` (its annotation), or one line saying what was expected.

    Integers stay integers: ``2.5``, ``2.0`` and ``true`` are refused for an integer, never truncated.
    """
    optional = kind.endswith(" | None")
    base = kind.removesuffix(" | None")
    if optional and (value is None or value == "none"):
        return None
    if base == "int":
        if isinstance(value, str) and value.isdigit():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ValueError(f"{name}={format_value(value)} must be an integer")
    if base == "float":
        if _is_number(value) and math.isfinite(value):
            return float(value)
        raise ValueError(f"{name}={format_value(value)} must be a finite number")
    if base == "bool":
        if isinstance(value, bool):
            return value
        raise ValueError(f"{name}={format_value(value)} must be true or false")
    if base == "str":
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)  # a pattern such as 110 reads as a number
        if isinstance(value, str):
            return value
        raise ValueError(f"{name}={format_value(value)} must be text")
    if base == "bool | str":
        if isinstance(value, (bool, str)):
            return value
        raise ValueError(f"{name}={format_value(value)} must be true, false or a mode name")
    if base.startswith("tuple["):
        item = base[len("tuple[") : -1]
        items = value if isinstance(value, (list, tuple)) else (value,)
        return tuple(coerce(name, one, item) for one in items)
    return value


def closest(word: str, valid: Iterable[str]) -> str:
    """`` (did you mean X?)`` for the closest valid word, or nothing."""
    match = difflib.get_close_matches(word, list(valid), n=1, cutoff=0.6)
    return f" (did you mean {match[0]}?)" if match else ""
