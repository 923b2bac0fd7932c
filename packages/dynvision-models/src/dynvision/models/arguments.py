"""Parse model arguments given on a command line or in a workflow file name, without eval.

``rctype=full tsteps=20``, ``rctype=full+tsteps=20`` and ``:rctype=full+tsteps=20`` all give
``{"rctype": "full", "tsteps": 20}``. Values become int, float, bool, None (``null``), a tuple (``36,64``) or stay text.
"""

from __future__ import annotations

from typing import Any


def parse_value(text: str) -> Any:
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":  # "none" stays text: rctype=none is a recurrence type
        return None
    if "," in text:
        return tuple(parse_value(part) for part in text.split(",") if part.strip())
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text.strip()


def parse_model_args(items: list[str] | tuple[str, ...] | str | None) -> dict[str, Any]:
    """Turn ``key=value`` items (each may hold several joined by ``+``) into keyword arguments."""
    if items is None:
        return {}
    if isinstance(items, str):
        items = [items]
    args: dict[str, Any] = {}
    for item in items:
        for pair in item.lstrip(":").split("+"):
            if not pair:
                continue
            key, sep, value = pair.partition("=")
            if not sep or not key:
                raise ValueError(f"model argument {pair!r} is not of the form key=value")
            args[key.strip()] = parse_value(value)
    return args
