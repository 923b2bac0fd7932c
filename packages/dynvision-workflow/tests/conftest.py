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


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded dataset, generated once per test session and linked like the workflow does."""
    from dynvision.data.get import get_data
    from dynvision.data.groups import resolve_group
    from dynvision.data.layout import link_subset

    root = tmp_path_factory.mktemp("data")
    get_data("embedded", root, progress=False)
    link_subset("embedded", "train_all", resolve_group("embedded", "all", data_root=root), root)
    link_subset("embedded", "test_one", resolve_group("embedded", "one", CONFIGS / "config_data.yaml", root), root)
    return root
