"""Command line of dynvision-workflow (also mounted as `dynvision workflow`).

The Snakemake rules call `init-model`, `train-model` and `test-model`; `run` starts the workflow
itself. The runtime commands have no defaults of their own (only `--max-images`: absent = all
images); the rules pass every value from the configuration, whose defaults live in config_defaults.yaml.
Heavy libraries are imported inside the commands so that `--help` stays instant.
"""

import math
import os
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from dynvision.workflow.__about__ import __version__

app = typer.Typer(
    help="Run DynVision's experiment workflow and its runtime commands.",
    no_args_is_help=True,
    add_completion=False,
    # plain click errors: one 'Error: ...' line, also in log files (no box drawn over several lines)
    rich_markup_mode=None,
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


def parse_args_option(text: str, option: str) -> dict[str, Any]:
    """Accept ``:rctype=full+tsteps=20`` (file-name form) or ``{rctype: full}`` (guide form)."""
    from dynvision.workflow.arguments import ArgumentError, decode_args
    from dynvision.workflow.values import ValueSyntaxError, parse_value

    try:
        if text.strip().startswith("{"):
            value = parse_value(text)
            if not isinstance(value, dict):
                raise ValueSyntaxError(f"{text!r} is not a mapping")
            return value
        return decode_args(text.strip())
    except (ArgumentError, ValueSyntaxError) as error:
        raise typer.BadParameter(str(error), param_hint=option) from None


def _fail(error: Exception) -> None:
    typer.echo(f"Error: {str(error).splitlines()[0] if str(error) else type(error).__name__}", err=True)
    raise typer.Exit(1)


DataRoot = Annotated[Path, typer.Option(help="Data folder (raw, interim, processed).")]
Threads = Annotated[int, typer.Option(min=1, help="CPU threads torch may use.")]
MaxImages = Annotated[int | None, typer.Option(min=1, help="Use only about this many images per epoch / test.")]
Progress = Annotated[bool, typer.Option(help="Show progress bars (off on clusters).")]


@app.command("init-model")
def init_model_command(
    model_name: Annotated[str, typer.Option(help="Registered model name, e.g. DyRCNNx4.")],
    output: Annotated[Path, typer.Option(help="Model file to write (..._init.pt).")],
    model_args: Annotated[str, typer.Option(help="Arguments as ':rctype=full+tsteps=20' or '{rctype: full}'.")],
    seed: Annotated[str, typer.Option(help="Random seed, e.g. 0001.")],
    data_name: Annotated[str, typer.Option(help="Dataset the model is sized for.")],
    data_root: DataRoot,
    pretrained: Annotated[bool, typer.Option(help="Start from the model's pretrained weights.")],
    registry: Annotated[Path, typer.Option(help="Weights registry file (records of trained models; may not exist).")],
    weights: Annotated[
        str | None, typer.Option(help="Save the model as these registered weights (status pretrained).")
    ] = None,
) -> None:
    """Create a model and save its initial state (or its state as registered weights)."""
    from dynvision.workflow.runtime import initialize_model

    args = parse_args_option(model_args, "--model-args")
    try:
        initialize_model(
            model_name,
            args,
            seed,
            data_name,
            output,
            data_root=data_root,
            pretrained=pretrained,
            registry=registry,
            weights=weights,
        )
    except (ValueError, OSError) as error:
        _fail(error)
    typer.echo(f"wrote {output}")


def _finite(value: float) -> float:
    """A float option must be a finite number (``inf`` passes a lower bound)."""
    if not math.isfinite(value):
        raise typer.BadParameter(f"{value} must be a finite number")
    return value


@app.command("train-model")
def train_model_command(
    input_path: Annotated[Path, typer.Option("--input", exists=True, dir_okay=False, help="Initial model file.")],
    output: Annotated[Path, typer.Option(help="Trained model file to write (..._trained.pt).")],
    checkpoint_dir: Annotated[Path, typer.Option(help="Checkpoints; training resumes from last.ckpt here.")],
    log_dir: Annotated[Path, typer.Option(help="Folder of the training logs (metrics).")],
    data_name: Annotated[str, typer.Option(help="Dataset to train on.")],
    data_root: DataRoot,
    epochs: Annotated[int, typer.Option(min=1)],
    learning_rate: Annotated[float, typer.Option(min=0.0, callback=_finite)],
    energy_weight: Annotated[float, typer.Option(min=0.0, callback=_finite)],
    batch_size: Annotated[int, typer.Option(min=1)],
    precision: Annotated[str, typer.Option(help="Lightning precision: 32, 16-mixed, bf16-mixed.")],
    ffcv: Annotated[bool, typer.Option(help="Read the FFCV .beton files.")],
    progress: Progress,
    ratio: Annotated[
        float, typer.Option(min=0.0, max=1.0, callback=_finite, help="Share of training images used for training.")
    ],
    augmentation: Annotated[str, typer.Option(help="Training augmentation preset: none, standard, strong.")],
    num_workers: Annotated[int, typer.Option(min=0)],
    threads: Threads,
    devices: Annotated[str, typer.Option(help="Lightning devices: auto (what SLURM allots) or a count.")],
    strategy: Annotated[str, typer.Option(help="Lightning strategy: auto, ddp, ...")],
    freeze_pretrained: Annotated[
        bool, typer.Option(help="Train only the read-out of a model started from pretrained weights.")
    ],
    max_images: MaxImages = None,
    save_epoch: Annotated[
        list[int] | None, typer.Option(min=1, help="Also save the model after this epoch (repeat for several).")
    ] = None,
) -> None:
    """Train a model file; an interrupted run resumes from its last checkpoint."""
    import torch

    from dynvision.workflow.runtime import train_model_file

    torch.set_num_threads(threads)
    try:
        result = train_model_file(
            input_path,
            output,
            data_name=data_name,
            checkpoint_dir=checkpoint_dir,
            log_dir=log_dir,
            data_root=data_root,
            epochs=epochs,
            save_epochs=save_epoch or [],
            learning_rate=learning_rate,
            energy_weight=energy_weight,
            batch_size=batch_size,
            precision=precision,
            use_ffcv=ffcv,
            progress=progress,
            ratio=ratio,
            augmentation=augmentation,
            num_workers=num_workers,
            max_images=max_images,
            devices=devices,
            strategy=strategy,
            freeze_pretrained=freeze_pretrained,
        )
    except ValueError as error:
        _fail(error)
    if not result:  # a DDP process other than rank 0: rank 0 writes the file
        return
    typer.echo(f"wrote {output} (validation accuracy {result['val_accuracy']:.3f}, chance {result['chance']:.3f})")


@app.command("test-model")
def test_model_command(
    input_path: Annotated[Path, typer.Option("--input", exists=True, dir_okay=False, help="Model file to test.")],
    responses: Annotated[Path, typer.Option(help="Responses file to write (..._test_responses.pt).")],
    outputs: Annotated[Path, typer.Option(help="Outputs table to write (..._test_outputs.csv).")],
    data_loader: Annotated[str, typer.Option(help="Registered stimulus, e.g. StimulusContrast.")],
    data_args: Annotated[str, typer.Option(help="Stimulus arguments as ':tsteps=20+contrast=0.5'.")],
    switch_off: Annotated[
        str, typer.Option(help="Connections to test without: none, recurrence, recurrence+skip, ...")
    ],
    data_name: Annotated[str, typer.Option(help="Dataset to test on.")],
    data_group: Annotated[str, typer.Option(help="Class group to test on.")],
    data_root: DataRoot,
    batch_size: Annotated[int, typer.Option(min=1)],
    record: Annotated[str, typer.Option(help="'layer' (mean/std per area) or 'unit' (every unit).")],
    progress: Progress,
    threads: Threads,
    max_images: MaxImages = None,
) -> None:
    """Test a model on a stimulus protocol; write outputs, responses and their config sidecars."""
    import torch

    from dynvision.workflow.runtime import evaluate_model

    if record not in ("layer", "unit"):
        raise typer.BadParameter(f"{record!r}; valid choices: layer, unit", param_hint="--record")
    args = parse_args_option(data_args, "--data-args")
    torch.set_num_threads(threads)
    try:
        evaluate_model(
            input_path,
            responses,
            outputs,
            data_name=data_name,
            data_group=data_group,
            data_loader=data_loader,
            data_args=args,
            switch_off=switch_off,
            data_root=data_root,
            batch_size=batch_size,
            record=record,
            progress=progress,
            max_images=max_images,
        )
    except ValueError as error:
        _fail(error)
    typer.echo(f"wrote {outputs} and {responses}")


@app.command("check-config")
def check_config_command(
    assignments: Annotated[list[str] | None, typer.Argument(help="Overrides as after --config: key=value ...")] = None,
    config_dir: Annotated[Path | None, typer.Option(help="Folder of the YAML files (default: ./configs).")] = None,
) -> None:
    """Merge and validate the configuration as the workflow would, and print it."""
    import yaml

    from dynvision.workflow.config import ConfigError, load_config, parse_assignments
    from dynvision.workflow.validation import validate_config

    try:
        config = validate_config(load_config(config_dir, parse_assignments(assignments or [])))
    except ConfigError as error:
        _fail(error)
    typer.echo(yaml.safe_dump(config, sort_keys=False), nl=False)


@app.command("snakefile")
def snakefile_command() -> None:
    """Print the path of the workflow's Snakefile (to `include:` it from your own)."""
    from dynvision.workflow import SNAKEFILE

    typer.echo(str(SNAKEFILE))


CONFIG_ENTRY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*", re.DOTALL)


def snakemake_args_refusal(args: list[str]) -> str | None:
    """Why Snakemake would stop on ``args`` with a traceback of its own (None: it parses them): a ``--config``
    entry that is not ``name=value`` or a ``--configfile`` that does not exist."""
    option = None
    for arg in args:
        if arg.startswith("-"):
            option = arg.split("=", 1)[0]
            continue
        if option in ("--config", "-C") and not CONFIG_ENTRY.fullmatch(arg):
            return (
                f"--config entry {arg!r} is not name=value (e.g. epochs=5); targets go before --config, "
                "every word after it is a config entry"
            )
        if option in ("--configfile", "--configfiles") and not Path(arg).is_file():
            return f"--configfile {arg} does not exist"
    return None


@app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run_command(context: typer.Context) -> None:
    """Run Snakemake on the workflow's Snakefile (or the one given with --snakefile); every argument is passed
    on (e.g. `-j1 experiment`). Arguments Snakemake's own parser would answer with a traceback get one line."""
    import subprocess
    import sys

    from dynvision.workflow import SNAKEFILE

    refusal = snakemake_args_refusal(context.args)
    if refusal:
        typer.echo(f"Error: {refusal}", err=True)
        raise typer.Exit(2)
    given = any(arg in ("-s", "--snakefile") or arg.startswith("--snakefile=") for arg in context.args)
    snakefile = [] if given else ["--snakefile", str(SNAKEFILE)]
    command = [sys.executable, "-m", "snakemake", *snakefile, *context.args]
    pidfile = Path(option_value(context.args, ("-d", "--directory")) or ".") / ".snakemake" / RUN_PIDFILE
    if stale_lock(pidfile):
        typer.echo("removing the stale lock of an earlier run that was killed", err=True)
        subprocess.call([*command, "--unlock"], stdout=subprocess.DEVNULL)
    if running(pidfile):  # another run in this folder: Snakemake's own lock decides
        raise typer.Exit(subprocess.call(command))
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    pidfile.write_text(f"{os.getpid()}\n")
    try:
        code = subprocess.call(command)
    finally:
        pidfile.unlink(missing_ok=True)
    raise typer.Exit(code)


RUN_PIDFILE = "dynvision-run.pid"
"""Process id of the `run` going in a folder; a lock left while it names a dead process is stale."""


def option_value(args: list[str], names: tuple[str, ...]) -> str | None:
    """The value of the last of ``names`` in Snakemake arguments (``-d x``, ``--directory=x``), or None."""
    value = None
    for index, arg in enumerate(args):
        name, sep, inline = arg.partition("=")
        if name in names:
            value = inline if sep else (args[index + 1] if index + 1 < len(args) else None)
    return value


def running(pidfile: Path) -> bool:
    """Whether ``pidfile`` names a process that is alive."""
    try:
        os.kill(int(pidfile.read_text().strip()), 0)
    except (OSError, ValueError):
        return False
    return True


def stale_lock(pidfile: Path) -> bool:
    """Snakemake's lock is left by a `run` that died (its pid file names no living process)."""
    locks = pidfile.parent / "locks"
    return pidfile.is_file() and not running(pidfile) and locks.is_dir() and any(locks.iterdir())
