"""Where the workflow runs: a SLURM cluster job or a laptop / workstation.

On a cluster the batch size is the large ``cluster_batch_size`` and progress bars are off (they
only fill log files); locally the small ``batch_size`` keeps memory low and progress bars are on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

SLURM_VARIABLES = ("SLURM_JOB_ID", "SLURM_JOBID", "SLURM_CLUSTER_NAME")


def iam_on_cluster(environ: Mapping[str, str] | None = None) -> bool:
    """True inside a SLURM job (any of the variables SLURM sets for a job is present)."""
    environ = os.environ if environ is None else environ
    return any(environ.get(name) for name in SLURM_VARIABLES)


def batch_size(config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> int:
    """The training batch size for this environment."""
    return int(config["cluster_batch_size"] if iam_on_cluster(environ) else config["batch_size"])


def progress_bar(environ: Mapping[str, str] | None = None) -> bool:
    """Progress bars only where a person watches the terminal."""
    return not iam_on_cluster(environ)
