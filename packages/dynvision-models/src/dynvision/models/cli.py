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
    except (RuntimeError, ValueError) as error:  # an image the areas' kernels do not fit
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


RegistryOption = Annotated[
    Path | None, typer.Option("--registry", help="A weights registry file (YAML) whose records are known too.")
]


@app.command()
def init(
    name: Annotated[str, typer.Argument(help="Model name, e.g. DyRCNNx4.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the model file (.pt).")],
    args: ArgsOption = None,
    seed: Annotated[int, typer.Option(help="Seed of the weight initialisation.")] = 0,
    weights: Annotated[str | None, typer.Option(help="Start from these weights (a tag: see `weights`).")] = None,
    registry: RegistryOption = None,
) -> None:
    """Initialise a model with a seed (or from weights) and save it (weights + name, arguments, seed)."""
    import torch

    from dynvision.models import create_model, use_weights_file
    from dynvision.models.grammar import parse_args
    from dynvision.models.io import save_model_file

    try:
        model_args = parse_args(args)
        if registry is not None:
            use_weights_file(registry)
        torch.manual_seed(seed)
        model = create_model(name, weights=weights, **model_args)
    except (ValueError, OSError) as error:
        _fail(error)
    save_model_file(output, model, name=name, args=model_args, seed=seed, extra={"weights": weights})
    typer.echo(f"saved {name} (seed {seed}{f', weights {weights}' if weights else ''}) to {output}")


@app.command("weights")
def weights_command(
    name: Annotated[str | None, typer.Argument(help="A model name (default: every model).")] = None,
    registry: RegistryOption = None,
) -> None:
    """List the weights each model can load: tag, layout, where from and what they were trained on."""
    from dynvision.models import get_weights, list_models, list_weights, use_weights_file

    try:
        if registry is not None:
            use_weights_file(registry)
        names = [name] if name else list_models()
        rows = [(model, tag, get_weights(model, tag)) for model in names for tag in list_weights(model)]
    except (ValueError, OSError) as error:
        _fail(error)
    for model, tag, record in rows:
        meta = ", ".join(f"{key}={value}" for key, value in record.meta.items() if key != "args")
        typer.echo(f"{model}\t{tag}\t{record.layout}\t{record.url}\t{meta}")


@app.command("register-weights")
def register_weights_command(
    model_file: Annotated[Path, typer.Argument(help="A trained model file (.pt) to publish as weights.")],
    tag: Annotated[str, typer.Option(help="The tag to load it by, e.g. the dataset it was trained on.")],
    registry: Annotated[Path, typer.Option("--registry", help="The registry file (YAML) to add the record to.")],
    url: Annotated[
        str | None, typer.Option(help="Where the file is published (default: its absolute path here).")
    ] = None,
) -> None:
    """Record a trained model file as weights (url, sha256, what it was trained on) in a registry file."""
    from dynvision.models import Weights, file_sha256
    from dynvision.models.io import load_model_file
    from dynvision.models.pretrained import write_weights_record

    try:
        model, record = load_model_file(model_file)
        meta = {**record["extra"], "args": record["args"], "seed": str(record["seed"]), "n_classes": model.n_classes}
        location = url or str(model_file.resolve())
        weights = Weights(url=location, sha256=file_sha256(model_file), meta=meta)
        write_weights_record(registry, record["name"], tag, weights)
    except (ValueError, OSError) as error:
        _fail(error)
    typer.echo(f"registered {record['name']} weights {tag!r} ({weights.sha256[:12]}...) in {registry}")
