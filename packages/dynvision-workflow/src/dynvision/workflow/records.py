"""Files that record what a run did: the experiment flag and the configuration it used."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import yaml

from dynvision.workflow.files import write_text_atomic


def write_yaml(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as YAML atomically."""
    write_text_atomic(path, yaml.safe_dump(data, sort_keys=False))


def write_experiment_record(
    done: str | os.PathLike, config_path: str | os.PathLike, inputs: Sequence[str], config: dict, experiment: str
) -> None:
    """Write the configuration of an experiment run, then its ``.done`` flag listing every file it stands for."""
    write_yaml(config_path, {"experiment": experiment, **config})
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    write_text_atomic(done, f"# experiment {experiment}, finished {stamp}\n" + "".join(f"{path}\n" for path in inputs))
