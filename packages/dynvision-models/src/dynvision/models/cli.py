"""Command line of dynvision-models (also mounted as `dynvision models`).

Heavy libraries are imported inside the commands so that `--help` stays instant.
"""

from typing import Annotated

import typer

from dynvision.models.__about__ import __version__

app = typer.Typer(help="Build, inspect and initialise DynVision models.", no_args_is_help=True, add_completion=False)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"dynvision-models {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Build, inspect and initialise DynVision models."""
