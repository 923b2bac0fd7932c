"""Where dynvision-data finds `config_data.yaml` (data groups, the embedded dataset, datasets of one's own)."""

from __future__ import annotations

import os
from pathlib import Path

DATA_CONFIG_ENV = "DYNVISION_DATA_CONFIG"
CONFIG_DIR_ENV = "DYNVISION_CONFIG_DIR"
CONFIG_NAME = "config_data.yaml"


def find_data_config(config_path: str | os.PathLike | None = None) -> Path | None:
    """Locate config_data.yaml, in the order every DynVision package looks for its config file.

    ``config_path``, else ``$DYNVISION_DATA_CONFIG``, else ``$DYNVISION_CONFIG_DIR/config_data.yaml``, else
    ``./configs/config_data.yaml``. Returns None when there is none (only the group `all` then exists).
    """
    if config_path is not None:
        path = Path(config_path)
        if not path.is_file():
            raise FileNotFoundError(f"data config {path} does not exist")
        return path
    if os.environ.get(DATA_CONFIG_ENV):
        return Path(os.environ[DATA_CONFIG_ENV])
    folder = Path(os.environ.get(CONFIG_DIR_ENV) or "configs")
    return folder / CONFIG_NAME if (folder / CONFIG_NAME).is_file() else None


def load_data_config(config_path: str | os.PathLike | None = None) -> dict:
    """The parsed data config, or an empty dict when none is found."""
    import yaml

    path = find_data_config(config_path)
    if path is None:
        return {}
    return yaml.safe_load(path.read_text()) or {}
