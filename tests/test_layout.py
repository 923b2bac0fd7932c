"""The monorepo keeps the shape its users rely on: four namespace packages, each versioned alone."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["models", "data", "viz", "workflow"]


@pytest.mark.parametrize("name", PACKAGES)
def test_package_has_its_own_files(name: str) -> None:
    package = ROOT / "packages" / f"dynvision-{name}"
    for relative in ["pyproject.toml", "README.md", "CHANGELOG.md", f"src/dynvision/{name}/__about__.py", "tests"]:
        assert (package / relative).exists(), f"dynvision-{name} lacks {relative}"


@pytest.mark.parametrize("name", PACKAGES)
def test_namespace_has_no_init(name: str) -> None:
    assert not (ROOT / "packages" / f"dynvision-{name}" / "src" / "dynvision" / "__init__.py").exists()


def test_generated_data_is_ignored() -> None:
    ignored = (ROOT / ".gitignore").read_text().split()
    for pattern in ["/data/", "/models/", "/reports/", "/logs/", "*.beton", "*.ckpt", ".venv/"]:
        assert pattern in ignored


def test_readme_gives_the_commands_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    for command in ["make install", "make test"]:
        assert command in readme and command in ci
    assert "make experiment EXP=contrast" in readme
