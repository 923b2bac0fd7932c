"""Captions for Snakemake's `report()`: one reStructuredText file per figure kind, shipped with the package.

The workflow passes `caption=caption_path("responses")` so `snakemake --report` shows what each figure means.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PLOT_NAMES = ("responses", "performance", "summary", "training", "weights", "confusion", "unrolling")


def caption_path(plot_name: str) -> Path:
    """Path of the caption of `plot_name`; unknown names fail with the list of valid ones."""
    if plot_name not in PLOT_NAMES:
        raise ValueError(f"no caption for plot {plot_name!r} (valid: {', '.join(PLOT_NAMES)})")
    return Path(str(resources.files("dynvision.viz") / "captions" / f"{plot_name}.rst"))
