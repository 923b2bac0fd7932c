"""Command line of dynvision-workflow (also mounted as `dynvision workflow`).

Heavy libraries are imported inside the commands so that `--help` stays instant.
"""

from typing import Annotated

import typer

from dynvision.workflow.__about__ import __version__

app = typer.Typer(
    help="Run DynVision's experiment workflow and its runtime commands.", no_args_is_help=True, add_completion=False
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"dynvision-workflow {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Run DynVision's experiment workflow and its runtime commands."""
