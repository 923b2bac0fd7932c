"""Each package builds, installs and is versioned on its own."""

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["models", "data", "viz", "workflow"]
HEAVY_FOR_MODELS = ["snakemake", "seaborn", "pandas", "ffcv", "matplotlib"]


def about_version(package_dir: Path, name: str) -> str:
    text = (package_dir / "src" / "dynvision" / name / "__about__.py").read_text()
    return re.search(r'__version__ = "([^"]+)"', text).group(1)


@pytest.mark.slow
@pytest.mark.integration
def test_models_installs_alone(tmp_path: Path) -> None:
    """What pip would install for dynvision-models in an empty venv holds none of the heavy siblings."""
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True)
    pip = [str(tmp_path / "venv" / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    report = tmp_path / "report.json"
    subprocess.run(
        [
            *pip,
            "install",
            "-q",
            "--dry-run",
            "--ignore-installed",
            "--report",
            str(report),
            str(ROOT / "packages" / "dynvision-models"),
        ],
        check=True,
    )
    names = {item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]}
    assert {"dynvision-models", "torch", "pytorch-lightning", "typer"} <= names
    assert not names & {*HEAVY_FOR_MODELS, "dynvision-data", "dynvision-viz", "dynvision-workflow"}


@pytest.mark.slow
@pytest.mark.parametrize("name", PACKAGES)
def test_wheel_version_is_the_packages_own(name: str, tmp_path: Path) -> None:
    package_dir = ROOT / "packages" / f"dynvision-{name}"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path), str(package_dir)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(metadata).decode()
        files = archive.namelist()
    assert f"Name: dynvision-{name}" in text
    assert f"Version: {about_version(package_dir, name)}" in text
    assert not any(f == "dynvision/__init__.py" for f in files), "the namespace must stay PEP 420"


@pytest.mark.slow
def test_bumping_one_package_leaves_the_others(tmp_path: Path) -> None:
    copy = tmp_path / "packages"
    shutil.copytree(ROOT / "packages", copy, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    before = {name: about_version(copy / f"dynvision-{name}", name) for name in PACKAGES}
    hatch = Path(sys.executable).parent / "hatch"
    subprocess.run([str(hatch), "version", "minor"], cwd=copy / "dynvision-viz", check=True, capture_output=True)
    after = {name: about_version(copy / f"dynvision-{name}", name) for name in PACKAGES}
    assert after["viz"] != before["viz"]
    assert {n: v for n, v in after.items() if n != "viz"} == {n: v for n, v in before.items() if n != "viz"}
