"""Every package's typer app answers --version and --help, alone and through `dynvision`."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

PACKAGES = ["models", "data", "viz", "workflow"]
runner = CliRunner()


@pytest.mark.parametrize("name", PACKAGES)
def test_version_matches_about(name: str) -> None:
    cli = importlib.import_module(f"dynvision.{name}.cli")
    about = importlib.import_module(f"dynvision.{name}.__about__")
    result = runner.invoke(cli.app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"dynvision-{name} {about.__version__}"


@pytest.mark.parametrize("name", PACKAGES)
def test_help(name: str) -> None:
    cli = importlib.import_module(f"dynvision.{name}.cli")
    result = runner.invoke(cli.app, ["--help"])
    assert result.exit_code == 0, result.output
    assert "--version" in result.output


def test_umbrella_mounts_every_package() -> None:
    from dynvision.workflow.umbrella import build_app

    result = runner.invoke(build_app(), ["--help"])
    assert result.exit_code == 0, result.output
    for name in PACKAGES:
        assert name in result.output
    nested = runner.invoke(build_app(), ["models", "--version"])
    assert nested.exit_code == 0 and nested.output.startswith("dynvision-models ")


def test_umbrella_help_imports_no_heavy_library() -> None:
    """`dynvision --help` stays instant because building the app loads no torch, snakemake or pandas."""
    code = (
        "import sys\nfrom dynvision.workflow.umbrella import build_app\nbuild_app()\n"
        "heavy = [m for m in ('torch', 'lightning', 'pytorch_lightning', 'snakemake', 'pandas', 'seaborn') "
        "if m in sys.modules]\nprint(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"--help imports {result.stdout.strip()}"


def test_umbrella_console_script() -> None:
    executable = Path(sys.executable).parent / "dynvision"
    result = subprocess.run([str(executable), "--help"], capture_output=True, text=True, check=True)
    for name in PACKAGES:
        assert name in result.stdout
