"""dynvision.models."""

from dynvision.models.__about__ import __version__

__all__ = ["__version__"]
