"""A scratch project for every case of the bad-input catalogue."""

import shutil
from pathlib import Path

import pytest

from .catalogue import CONFIGS, run


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scratch project folder with a writable copy of the repository's configs."""
    shutil.copytree(CONFIGS, tmp_path / "configs")
    return tmp_path


@pytest.fixture(scope="session")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the embedded dataset (generated and linked) and a small model file, made once."""
    folder = tmp_path_factory.mktemp("prepared")
    shutil.copytree(CONFIGS, folder / "configs")
    for command in (
        ["dynvision-data", "get", "embedded", "--quiet"],
        ["dynvision-data", "link", "embedded", "--subset", "train_all"],
        ["dynvision-data", "link", "embedded", "--subset", "test_all"],
        ["dynvision-models", "init", "DyRCNNx2", "-o", "model.pt", "-a", "tsteps=4", "--seed", "1"],
    ):
        result = run(command, folder)
        assert result.returncode == 0, result.stdout
    return folder


@pytest.fixture
def workspace(prepared: Path, tmp_path: Path) -> Path:
    """A scratch copy of the prepared folder (the dataset linked, not copied) for one case."""
    shutil.copytree(CONFIGS, tmp_path / "configs")
    (tmp_path / "data").symlink_to(prepared / "data")
    shutil.copy(prepared / "model.pt", tmp_path / "model.pt")
    for sidecar in prepared.glob("model.*.yaml"):
        shutil.copy(sidecar, tmp_path / sidecar.name)
    return tmp_path
