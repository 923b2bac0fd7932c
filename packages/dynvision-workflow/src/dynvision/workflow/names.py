"""Keep file names within the file system's limit by hashing long argument strings.

A sweep can produce argument strings such as ``:rctype=full+tau=5+tsteps=20+...`` that make a file
name longer than the file system allows (255 bytes on most systems). Any argument string longer than
:data:`MAX_ARGS_CHARS` characters is replaced in file names by the token ``~`` + the first 12 hex digits
of its SHA-256. The token is a function of the string alone, so parsing a configuration knows every
token of its sweep and writes nothing. The jobs that create a file with a token write its index entry
``models/hashed_args/<token>.yaml`` (``token: argument string``), one small file per token, so that
concurrent runs never lose an entry and a later run (or a person) can map a token back.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import yaml

MAX_ARGS_CHARS = 48
"""Argument strings longer than this are hashed in file names."""
HASH_PREFIX = "~"
HASH_DIGITS = 12
TOKEN_PATTERN = r"~[0-9a-f]{12}"
"""Regular expression of a hashed argument token (also used as Snakemake wildcard constraint)."""
NAME_MAX = 255


class NameLengthError(ValueError):
    """A file name stays too long even after its argument strings were hashed."""


def name_max(folder: Path | str = ".") -> int:
    """The longest file name the file system at ``folder`` accepts (255 if unknown)."""
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return NAME_MAX


def token_of(encoded: str) -> str:
    """The file-name form of an argument string: itself when short, else ``~`` and 12 hex digits of its hash."""
    if len(encoded) <= MAX_ARGS_CHARS:
        return encoded
    return HASH_PREFIX + hashlib.sha256(encoded.encode()).hexdigest()[:HASH_DIGITS]


def read_entry(path: Path | str) -> dict[str, str]:
    """One index entry file as ``{token: argument string}`` (empty when it does not exist)."""
    path = Path(path)
    if not path.is_file():
        return {}
    return {str(token): str(encoded) for token, encoded in (yaml.safe_load(path.read_text()) or {}).items()}


class ArgsIndex:
    """The tokens of one configuration's sweep, and the index entries of earlier runs in ``folder``."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.tokens: dict[str, str] = {}

    def shorten(self, encoded: str) -> str:
        """The file-name form of ``encoded``; two strings of one sweep sharing a token is an error."""
        token = token_of(encoded)
        if token != encoded:
            known = self.tokens.setdefault(token, encoded)
            if known != encoded:
                raise NameLengthError(f"argument strings {known!r} and {encoded!r} share the token {token}")
        return token

    def entry(self, token: str) -> Path:
        return self.folder / f"{token}.yaml"

    def expand(self, shortened: str) -> str:
        """The argument string behind a file-name form (a token of this sweep, or of an index entry)."""
        if not re.fullmatch(TOKEN_PATTERN, shortened or ""):
            return shortened
        encoded = self.tokens.get(shortened) or read_entry(self.entry(shortened)).get(shortened)
        if encoded is None:
            raise KeyError(
                f"unknown hashed argument token {shortened!r}: not in this configuration's sweep, "
                f"nor in {self.entry(shortened)}"
            )
        return encoded


def check_name_length(name: str, limit: int = NAME_MAX) -> str:
    """Return ``name`` or raise one clear error if it cannot exist on the file system."""
    if len(name.encode()) > limit:
        raise NameLengthError(
            f"file name {name[:60]}... is {len(name.encode())} bytes, more than the {limit} the file system allows; "
            "shorten model_name, data_name, data_loader or data_group"
        )
    return name
