"""Keep file names within the file system's limit by hashing long argument strings.

A sweep can produce argument strings such as ``:rctype=full+tsteps=20+tau=5+...`` that make a
file name longer than the file system allows (255 bytes on most systems). Any argument string
longer than :data:`MAX_ARGS_CHARS` characters is replaced in file names by the token
``~`` + the first 12 hex digits of its SHA-256. The token is written to the sidecar
``hashed_args.yaml`` (``token: original``) in the models folder, from which every rule maps it
back. Should two strings ever share a token, the newer one gets a longer digest, so a token
always means exactly one argument string.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

import yaml

MAX_ARGS_CHARS = 48
"""Argument strings longer than this are hashed in file names."""
HASH_PREFIX = "~"
HASH_DIGITS = 12
TOKEN_PATTERN = r"~[0-9a-f]{12,64}"
"""Regular expression of a hashed argument token (also used as Snakemake wildcard constraint)."""
SIDECAR_NAME = "hashed_args.yaml"
NAME_MAX = 255


class NameLengthError(ValueError):
    """A file name stays too long even after its argument strings were hashed."""


def name_max(folder: Path | str = ".") -> int:
    """The longest file name the file system at ``folder`` accepts (255 if unknown)."""
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return NAME_MAX


class ArgsIndex:
    """The sidecar mapping of hashed argument tokens back to their argument strings."""

    def __init__(self, sidecar: Path | str) -> None:
        self.sidecar = Path(sidecar)
        self.tokens: dict[str, str] = {}
        if self.sidecar.exists():
            loaded = yaml.safe_load(self.sidecar.read_text()) or {}
            self.tokens = {str(token): str(encoded) for token, encoded in loaded.items()}
        self._dirty = False

    def shorten(self, encoded: str) -> str:
        """The file-name form of ``encoded``: itself when short, else its (collision-free) token."""
        if len(encoded) <= MAX_ARGS_CHARS:
            return encoded
        digest = hashlib.sha256(encoded.encode()).hexdigest()
        for digits in range(HASH_DIGITS, len(digest) + 1, 4):
            token = HASH_PREFIX + digest[:digits]
            known = self.tokens.get(token)
            if known == encoded:
                return token
            if known is None:
                self.tokens[token] = encoded
                self._dirty = True
                return token
        raise NameLengthError(f"argument string {encoded!r} collides with every hash length")

    def expand(self, shortened: str) -> str:
        """The argument string behind a file-name form (tokens are looked up in the sidecar)."""
        if not re.fullmatch(TOKEN_PATTERN, shortened or ""):
            return shortened
        if shortened not in self.tokens:
            raise KeyError(f"unknown hashed argument token {shortened!r}: it is not listed in {self.sidecar}")
        return self.tokens[shortened]

    def save(self) -> None:
        """Write the sidecar atomically when new tokens were added."""
        if not self._dirty:
            return
        self.sidecar.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=self.sidecar.parent, prefix=".hashed_args.", suffix=".tmp")
        with os.fdopen(handle, "w") as stream:
            yaml.safe_dump(dict(sorted(self.tokens.items())), stream, sort_keys=False)
        os.replace(temp, self.sidecar)
        self._dirty = False


def check_name_length(name: str, limit: int = NAME_MAX) -> str:
    """Return ``name`` or raise one clear error if it cannot exist on the file system."""
    if len(name.encode()) > limit:
        raise NameLengthError(
            f"file name {name[:60]}... is {len(name.encode())} bytes, more than the {limit} the file system allows; "
            "shorten model_name, data_name, data_loader or data_group"
        )
    return name
