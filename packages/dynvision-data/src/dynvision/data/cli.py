"""Command line of dynvision-data (also mounted as `dynvision data`).

Heavy libraries are imported inside the commands so that `--help` stays instant.
"""

from typing import Annotated

import typer

from dynvision.data.__about__ import __version__

app = typer.Typer(help="Get, convert and preview DynVision datasets and stimuli.", no_args_is_help=True, add_completion=False)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"dynvision-data {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Get, convert and preview DynVision datasets and stimuli."""
