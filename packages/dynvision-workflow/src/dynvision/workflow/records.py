"""Files that record what a run did: the experiment flag and the configuration it used."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml


def write_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to a temporary file next to ``path`` and rename it, so readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)


def write_yaml(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as YAML atomically."""
    write_atomic(path, yaml.safe_dump(data, sort_keys=False))


def write_experiment_record(
    done: str | os.PathLike, config_path: str | os.PathLike, inputs: Sequence[str], config: dict, experiment: str
) -> None:
    """Write the configuration of an experiment run, then its ``.done`` flag listing every file it stands for."""
    write_yaml(config_path, {"experiment": experiment, **config})
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    write_atomic(done, f"# experiment {experiment}, finished {stamp}\n" + "".join(f"{path}\n" for path in inputs))
