"""The umbrella ``dynvision`` command.

Every installed DynVision package advertises its typer app in the entry-point group
``dynvision.cli``; this command mounts each one as a sub-command (``dynvision models ...``),
so a package that is not installed simply does not appear.
"""

from importlib.metadata import entry_points

import typer

ENTRY_POINT_GROUP = "dynvision.cli"


def build_app() -> typer.Typer:
    """Collect the sub-apps of every installed package under one command."""
    app = typer.Typer(
        help="DynVision: recurrent CNNs with temporal dynamics.",
        no_args_is_help=True,
        add_completion=False,
        # plain click errors: one 'Error: ...' line, also in log files (no box drawn over several lines)
        rich_markup_mode=None,
    )
    for entry_point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        app.add_typer(entry_point.load(), name=entry_point.name)
    return app


def main() -> None:
    build_app()()
