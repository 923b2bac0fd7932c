"""dynvision.workflow: the Snakemake workflow of DynVision and the runtime commands its rules call."""

from pathlib import Path

from dynvision.workflow.__about__ import __version__

SNAKEFILE = Path(__file__).parent / "Snakefile"
"""The workflow's main Snakefile; include it from your own Snakefile to add rules."""

__all__ = ["SNAKEFILE", "__version__"]
