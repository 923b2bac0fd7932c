"""Command line of dynvision-models (also mounted as `dynvision models`).

Heavy libraries are imported inside the commands so that `--help` stays instant.
"""

from pathlib import Path
from typing import Annotated

import typer

from dynvision.models.__about__ import __version__

app = typer.Typer(
    help="Build, inspect and initialise DynVision models.",
    no_args_is_help=True,
    add_completion=False,
    # plain click errors: one 'Error: ...' line, also in log files (no box drawn over several lines)
    rich_markup_mode=None,
)

ArgsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--args", "-a", help="Model arguments key=value (repeat, or join with +), e.g. rctype=full+tsteps=20."
    ),
]


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"dynvision-models {__version__}")
        raise typer.Exit()


def _fail(error: Exception) -> None:
    typer.echo(f"Error: {error}", err=True)
    raise typer.Exit(2)


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Build, inspect and initialise DynVision models."""


@app.command("list")
def list_command() -> None:
    """List the registered models."""
    from dynvision.models import list_models

    for name in list_models():
        typer.echo(name)


@app.command()
def info(
    name: Annotated[str, typer.Argument(help="Model name, e.g. DyRCNNx4, or a model file (.pt) to inspect.")],
    args: ArgsOption = None,
    size: Annotated[int, typer.Option(min=1, help="Input image size in pixels for the FLOP count.")] = 32,
    stability: Annotated[
        bool, typer.Option("--stability", help="Also run the blank-decay test (a brief stimulus, then 60 blanks).")
    ] = False,
) -> None:
    """Show a model's areas, parameter count, FLOPs per time step and first-response step per area."""
    from dynvision.models import create_model
    from dynvision.models.grammar import parse_args
    from dynvision.models.io import load_model_file
    from dynvision.models.summary import describe

    try:
        if name.endswith(".pt"):
            model, record = load_model_file(name)
            name = f"{record['name']} ({name})"
        else:
            model = create_model(name, **parse_args(args))
    except (ValueError, OSError) as error:
        _fail(error)
    try:
        summary = describe(model, size)
    except RuntimeError as error:  # torch's words for an image the areas' kernels do not fit
        _fail(ValueError(f"--size {size} is too small for {name}: {str(error).splitlines()[0]}"))
    typer.echo(f"model: {name}")
    typer.echo(f"areas: {', '.join(summary['areas'])}")
    typer.echo(f"parameters: {summary['parameters']:,}")
    typer.echo(f"FLOPs per time step ({size}x{size}, forward): {summary['flops_per_step'] / 1e6:.2f} M")
    typer.echo(f"dt: {summary['dt']} ms, n_timesteps: {summary['n_timesteps']}, engine: {summary['engine']}")
    typer.echo("first response (step, ms):")
    for area, step in summary["first_response_step"].items():
        typer.echo(f"  {area}: {step} ({summary['first_response_ms'][area]:g} ms)")
    if stability:
        import torch

        from dynvision.models.stability import BLANK_STEPS, SETTLED_BELOW, blank_decay, settled

        torch.manual_seed(0)
        decay = blank_decay(model, torch.randn(16, model.input_channels, size, size))
        verdict = "settles" if settled(decay) else f"does NOT settle (an area stays above {SETTLED_BELOW:g})"
        typer.echo(f"blank decay (evoked activity after {BLANK_STEPS} blank steps / its peak): {verdict}")
        for area, value in decay.items():
            typer.echo(f"  {area}: {value:.3g}")


@app.command()
def init(
    name: Annotated[str, typer.Argument(help="Model name, e.g. DyRCNNx4.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the model file (.pt).")],
    args: ArgsOption = None,
    seed: Annotated[int, typer.Option(help="Seed of the weight initialisation.")] = 0,
) -> None:
    """Initialise a model with a seed and save it (weights + name, arguments, seed)."""
    import torch

    from dynvision.models import create_model
    from dynvision.models.grammar import parse_args
    from dynvision.models.io import save_model_file

    try:
        model_args = parse_args(args)
        torch.manual_seed(seed)
        model = create_model(name, **model_args)
    except ValueError as error:
        _fail(error)
    save_model_file(output, model, name=name, args=model_args, seed=seed)
    typer.echo(f"saved {name} (seed {seed}) to {output}")
