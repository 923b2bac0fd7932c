"""Every package writes outputs whole or not at all, readable as the user's umask allows (each has its own
`files.atomic_path`, since the packages share no code)."""

import importlib
import os
import stat
from pathlib import Path

import pytest

PACKAGES = ("models", "data", "viz", "workflow")


@pytest.fixture(params=PACKAGES)
def files(request: pytest.FixtureRequest):
    return importlib.import_module(f"dynvision.{request.param}.files")


def test_a_written_file_has_the_mode_the_umask_gives(files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "umask", lambda: 0o022)
    with files.atomic_path(tmp_path / "out" / "table.csv") as temporary:
        temporary.write_text("a,b\n")
        assert not (tmp_path / "out" / "table.csv").exists()  # nothing that looks complete before the end
    assert stat.S_IMODE(os.stat(tmp_path / "out" / "table.csv").st_mode) == 0o644
    assert (tmp_path / "out" / "table.csv").read_text() == "a,b\n"


def test_a_failure_leaves_neither_target_nor_temporary_file(files, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), files.atomic_path(tmp_path / "model.pt") as temporary:
        temporary.write_bytes(b"half")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_the_umask_is_read_without_changing_it(files) -> None:
    before = os.umask(0o027)
    try:
        files.umask.cache_clear()
        assert files.umask() == 0o027
        assert os.umask(0o027) == 0o027
    finally:
        os.umask(before)
        files.umask.cache_clear()
