"""Command line of dynvision-viz (also mounted as `dynvision viz`).

Heavy libraries are imported inside the commands so that `--help` stays instant.
"""

from typing import Annotated

import typer

from dynvision.viz.__about__ import __version__

app = typer.Typer(help="Process DynVision test outputs and plot figures.", no_args_is_help=True, add_completion=False)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"dynvision-viz {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Process DynVision test outputs and plot figures."""
