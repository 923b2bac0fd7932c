"""Safe parsing of the guide's Python-like ``--config`` values, without ``eval``.

The user guide writes overrides such as ``model_args="{rctype:[full,self]}"`` or
``model_name="[AlexNet,CorNetRT]"``. Snakemake hands ``--config`` values to YAML first, which
mangles ``{rctype:full}`` into ``{"rctype:full": ""}`` and turns ``seed=0001`` into ``1``. This
module renders whatever Snakemake produced back into text and parses that text with a tiny
grammar of its own::

    value  := dict | list | scalar
    dict   := "{" [key ":" value ("," key ":" value)*] "}"
    list   := "[" [value ("," value)*] "]"
    scalar := quoted string | bare word

Bare words are typed by the models package's one scalar rule (:func:`dynvision.models.grammar.parse_scalar`):
``true``/``false`` are booleans, ``null`` is None, ``none`` stays text (the feedforward control
``rctype: none``), numbers with a leading zero (``0001``) stay strings, so seeds keep their spelling.
"""

from __future__ import annotations

from typing import Any

from dynvision.models.grammar import parse_scalar

_STRUCTURAL = "{}[],:"


class ValueSyntaxError(ValueError):
    """A ``--config`` value does not follow the guide's Python-like syntax."""


class _Parser:
    """Recursive-descent parser over one text; positions are reported in errors."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, expected: str) -> ValueSyntaxError:
        return ValueSyntaxError(
            f"malformed value {self.text!r}: expected {expected} at position {self.pos} "
            "(use e.g. {rctype:full}, {rctype:[full,self]} or [AlexNet,ResNet18])"
        )

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip_space()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.fail(repr(char))
        self.pos += 1

    def value(self) -> Any:
        char = self.peek()
        if char == "{":
            return self.mapping()
        if char == "[":
            return self.sequence()
        return parse_scalar(self.word())

    def word(self) -> str:
        self.skip_space()
        start = self.pos
        if self.pos < len(self.text) and self.text[self.pos] in "'\"":
            quote = self.text[self.pos]
            end = self.text.find(quote, self.pos + 1)
            if end < 0:
                raise self.fail(f"closing {quote}")
            self.pos = end + 1
            return self.text[start : self.pos]
        while self.pos < len(self.text) and self.text[self.pos] not in _STRUCTURAL:
            self.pos += 1
        word = self.text[start : self.pos].strip()
        if not word:
            raise self.fail("a value")
        return word

    def mapping(self) -> dict[str, Any]:
        self.expect("{")
        result: dict[str, Any] = {}
        if self.peek() == "}":
            self.pos += 1
            return result
        while True:
            key = parse_scalar(self.word())
            self.expect(":")
            result[str(key)] = self.value()
            if self.peek() == ",":
                self.pos += 1
                continue
            self.expect("}")
            return result

    def sequence(self) -> list[Any]:
        self.expect("[")
        result: list[Any] = []
        if self.peek() == "]":
            self.pos += 1
            return result
        while True:
            result.append(self.value())
            if self.peek() == ",":
                self.pos += 1
                continue
            self.expect("]")
            return result


def parse_value(text: str) -> Any:
    """Parse one value of the guide's syntax; text not starting with ``{`` or ``[`` is one scalar."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "{[":
        return parse_scalar(stripped) if stripped else ""
    parser = _Parser(stripped)
    result = parser.value()
    if parser.peek():
        raise parser.fail("end of value")
    return result


def render_value(value: Any) -> str:
    """Render a (possibly YAML-mangled) value back into the guide's syntax."""
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            # YAML reads ``{rctype:full}`` as the key "rctype:full" with an empty value.
            items.append(str(key) if item in ("", None) and ":" in str(key) else f"{key}:{render_value(item)}")
        return "{" + ",".join(items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(render_value(item) for item in value) + "]"
    return str(value)


def normalize_override(value: Any) -> Any:
    """Turn a value that came through Snakemake's ``--config`` parser into what the user meant."""
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    return parse_value(render_value(value))
