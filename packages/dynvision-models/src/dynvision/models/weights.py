"""Pretrained weights records, torchvision style: where the file lives and what its checksum is."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import torch

from dynvision.models.files import atomic_path


@dataclass(frozen=True)
class Weights:
    """A state dict at ``url`` (http(s)://, file:// or a local path) with its full sha256.

    The checksum is checked before the file is unpickled, and loading uses ``weights_only=True``.
    """

    url: str
    sha256: str
    meta: dict = field(default_factory=dict)

    def local_path(self, model_dir: str | os.PathLike | None = None, progress: bool = False) -> Path:
        """The file on disk; a URL is downloaded once into ``model_dir`` (default: torch hub's checkpoints).

        A download is kept only when its checksum is right, so a cached file is always a complete one.
        """
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
                if digest != self.sha256:
                    raise ValueError(f"download of {self.url} has sha256 {digest}, expected {self.sha256}")
        return target

    def get_state_dict(self, model_dir: str | os.PathLike | None = None, progress: bool = False) -> dict:
        path = self.local_path(model_dir, progress)
        if not path.exists():
            raise FileNotFoundError(f"weights file {path} does not exist")
        digest = file_sha256(path)
        if digest != self.sha256:
            raise ValueError(f"weights file {path} has sha256 {digest}, expected {self.sha256}")
        return torch.load(path, map_location="cpu", weights_only=True)


def file_sha256(path: str | os.PathLike) -> str:
    """The checksum to put into a :class:`Weights` record."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
