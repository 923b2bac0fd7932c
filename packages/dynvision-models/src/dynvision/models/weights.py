"""Pretrained weights records, torchvision style: where the file lives, its checksum and its key layout.

Torch-free until a file is fetched or loaded, so that the workflow reads registry files when it plans.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from dynvision.models.files import atomic_path

LAYOUTS = ("dynvision", "torchvision", "cornet", "cordsnet")
"""Key layouts a weights file can be written in (:mod:`dynvision.models.conversion` maps them to ours)."""


@dataclass(frozen=True)
class Weights:
    """A state dict at ``url`` (http(s)://, file:// or a local path) with its sha256.

    ``sha256`` is the full digest, or its first 8 or more hex digits where only those are published (torch
    hub's convention: ``resnet18-f37072fd.pth``). It is checked before the file is unpickled, and loading uses
    ``weights_only=True``. ``layout``: the key names the file uses (one of :data:`LAYOUTS`); ``meta``: what
    the weights were trained on (dataset, classes, accuracy, arguments).
    """

    url: str
    sha256: str
    meta: dict = field(default_factory=dict)
    layout: str = "dynvision"

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9a-f]{8,64}", self.sha256):
            raise ValueError(f"sha256={self.sha256!r} must be 8 to 64 lowercase hex digits")
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout={self.layout!r} is unknown; valid: {', '.join(LAYOUTS)}")

    def matches(self, digest: str) -> bool:
        return digest.startswith(self.sha256)

    def local_path(self, model_dir: str | os.PathLike | None = None, progress: bool = False) -> Path:
        """The file on disk; a URL is downloaded once into ``model_dir`` (default: torch hub's checkpoints,
        shared with torchvision), and kept only when its checksum is right, so a cached file is a complete one."""
        import torch

        parsed = urlparse(self.url)
        if parsed.scheme not in ("http", "https"):
            return Path(parsed.path if parsed.scheme == "file" else self.url)
        directory = Path(model_dir or Path(torch.hub.get_dir()) / "checkpoints")
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / Path(parsed.path).name
        if not target.exists():
            with atomic_path(target) as partial:
                torch.hub.download_url_to_file(self.url, str(partial), progress=progress)
                digest = file_sha256(partial)
                if not self.matches(digest):
                    raise ValueError(f"download of {self.url} has sha256 {digest}, expected {self.sha256}")
        return target

    def get_state_dict(self, model_dir: str | os.PathLike | None = None, progress: bool = False) -> dict:
        """What the file holds (a state dict, or a checkpoint that holds one), checked and loaded safely."""
        import torch

        path = self.local_path(model_dir, progress)
        if not path.exists():
            raise FileNotFoundError(f"weights file {path} does not exist")
        digest = file_sha256(path)
        if not self.matches(digest):
            raise ValueError(f"weights file {path} has sha256 {digest}, expected {self.sha256}")
        return torch.load(path, map_location="cpu", weights_only=True)


def file_sha256(path: str | os.PathLike) -> str:
    """The checksum to put into a :class:`Weights` record."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
