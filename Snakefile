"""Run the DynVision workflow from the repository root: `snakemake -j1 --config experiment=contrast`.

The workflow itself ships in the dynvision-workflow package (packages/dynvision-workflow); an
included file cannot set the default target, so this file names it.
"""

from dynvision.workflow import SNAKEFILE


include: SNAKEFILE


rule default:
    """Every experiment of config_experiments.yaml (or those named with --config experiment=...)."""
    default_target: True
    input:
        rules.all.input,
