"""Shared fixtures: the repository's config folder and a copy of it to edit."""

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
CONFIGS = REPO / "configs"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A writable copy of the repository's configs."""
    target = tmp_path / "configs"
    shutil.copytree(CONFIGS, target)
    return target
