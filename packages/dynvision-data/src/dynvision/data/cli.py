"""Command line of dynvision-data (also mounted as `dynvision data`).

Heavy libraries are imported inside the commands so that `--help` stays instant. Bad input ends with one
`Error: ...` line naming the valid choices and exit code 1.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer

from dynvision.data.__about__ import __version__

app = typer.Typer(
    help="Get, convert and preview DynVision datasets and stimuli.",
    no_args_is_help=True,
    add_completion=False,
    # plain click errors: one 'Error: ...' line, also in log files (no box drawn over several lines)
    rich_markup_mode=None,
)

DataRoot = Annotated[
    Path | None,
    typer.Option("--data-root", help="Data root (default: $DYNVISION_DATA_ROOT, else ./data).", show_default=False),
]
ConfigPath = Annotated[
    Path | None,
    typer.Option("--config", help="config_data.yaml with the data groups (default: ./configs/config_data.yaml)."),
]


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


def _clear_errors(command):
    """Turn expected failures into one `Error:` line instead of a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from dynvision.data.download import DownloadError

        try:
            return command(*args, **kwargs)
        except (ValueError, FileNotFoundError, ImportError, DownloadError) as error:
            typer.echo(f"Error: {error}", err=True)
            raise typer.Exit(1) from None

    return wrapper


@app.command("list")
@_clear_errors
def list_command() -> None:
    """List the datasets and the temporal stimulus loaders."""
    from dynvision.data.registry import DEFAULT_DATASET, get_dataset_info, list_datasets

    typer.echo("datasets:")
    for name in list_datasets():
        info = get_dataset_info(name)
        default = " (default)" if name == DEFAULT_DATASET else ""
        size = f"{info.n_classes} classes, {info.resolution}px"
        typer.echo(f"  {name:<13} {size:<20} {info.description}{default}")
    from dynvision.data.stimuli import list_stimuli

    typer.echo("stimulus loaders:")
    for name in list_stimuli():
        typer.echo(f"  {name}")


@app.command()
@_clear_errors
def info(name: Annotated[str, typer.Argument(help="Dataset name.")], data_root: DataRoot = None) -> None:
    """Show a dataset's resolution, normalisation, classes, download recipe and what is on disk."""
    from dynvision.data.get import is_complete
    from dynvision.data.layout import resolve_data_root
    from dynvision.data.normalisation import statistics_path, with_statistics
    from dynvision.data.registry import get_dataset_info

    meta = get_dataset_info(name)
    typer.echo(f"name:        {meta.name}")
    typer.echo(f"description: {meta.description}")
    typer.echo(f"resolution:  {meta.resolution}x{meta.resolution}, {meta.channels} channel(s)")
    if meta.mean is None and not statistics_path(name, data_root).is_file():
        typer.echo("mean, std:   computed from the training images by `dynvision-data get` (not yet)")
    else:
        stats = with_statistics(meta, data_root)
        typer.echo(f"mean:        {list(stats.mean)}")
        typer.echo(f"std:         {list(stats.std)}")
    typer.echo(f"classes:     {meta.n_classes}")
    if meta.class_names is not None:
        typer.echo("             " + ", ".join(f"{i}:{c}" for i, c in enumerate(meta.class_names)))
    else:
        typer.echo(f"             defined by the class folders of raw/{name}/train (numeric names in numeric order)")
    for resource in meta.resources:
        checksum = f"md5 {resource.md5}" if resource.md5 else f"sha256 {resource.sha256}"
        typer.echo(f"download:    {resource.url} ({checksum})")
    root = resolve_data_root(data_root)
    typer.echo(f"raw data:    {'present' if is_complete(name, root) else 'missing'} in {root / 'raw' / name}")


@app.command()
@_clear_errors
def get(
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    data_root: DataRoot = None,
    source: Annotated[
        Path | None, typer.Option(help="imagenet only: an existing folder with train/ and val/ class folders.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Rebuild raw/ even when it exists.")] = False,
    retries: Annotated[int, typer.Option(min=0, help="Download retries per file.")] = 3,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
) -> None:
    """Download (or generate, or link) a dataset into raw/NAME/{train,test}/{class}/."""
    from dynvision.data.get import get_data

    target = get_data(name, data_root, source=source, force=force, retries=retries, progress=not quiet)
    typer.echo(f"{name}: {target}")


@app.command()
@_clear_errors
def link(
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    subset: Annotated[str, typer.Option(help="train_all or test_<group>.")] = "train_all",
    data_root: DataRoot = None,
    config: ConfigPath = None,
) -> None:
    """Symlink the class folders of a subset into interim/NAME/SUBSET/ and write its folder.link."""
    from dynvision.data.groups import resolve_group
    from dynvision.data.layout import link_subset

    group = "all" if subset == "train_all" else subset.removeprefix("test_")
    classes = resolve_group(name, group, config, data_root)
    marker = link_subset(name, subset, classes, data_root)
    typer.echo(f"{name} {subset}: {len(classes)} classes linked, {marker}")


@app.command()
@_clear_errors
def convert(
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    data_root: DataRoot = None,
    ratio: Annotated[float, typer.Option(help="Fraction of train_all in train.beton; the rest is val.beton.")] = 0.9,
    seed: Annotated[int, typer.Option(help="Seed of the train/val split.")] = 0,
    write_mode: Annotated[str, typer.Option(help="raw (exact pixels), jpg or smart.")] = "raw",
    jpeg_quality: Annotated[int, typer.Option(help="JPEG quality for jpg/smart.")] = 90,
    workers: Annotated[int, typer.Option(help="Writer processes.")] = 1,
) -> None:
    """Write processed/NAME/train_all/{train,val}.beton (needs the optional ffcv extra)."""
    from dynvision.data.ffcv_io import write_betons

    paths = write_betons(
        name,
        data_root=data_root,
        ratio=ratio,
        seed=seed,
        write_mode=write_mode,
        jpeg_quality=jpeg_quality,
        num_workers=workers,
    )
    for split, path in paths.items():
        typer.echo(f"{split}: {path}")


@app.command()
@_clear_errors
def groups(
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    data_root: DataRoot = None,
    config: ConfigPath = None,
) -> None:
    """List the data groups of a dataset with their classes (full-label-space indices)."""
    from dynvision.data.groups import list_groups, resolve_group
    from dynvision.data.layout import class_names

    names = class_names(name, data_root)
    for group in list_groups(name, config):
        indices = resolve_group(name, group, config, data_root)
        shown = ", ".join(f"{i}:{names[i]}" for i in indices) if group != "all" else f"{len(indices)} classes"
        typer.echo(f"{group}: {shown}")


def parse_stimulus_args(items: list[str]) -> dict[str, str]:
    """`k=v` items (each may also hold several joined by '+', as in workflow wildcards) -> dict of strings."""
    parsed: dict[str, str] = {}
    for item in items:
        for part in filter(None, item.split("+")):
            key, sep, value = part.partition("=")
            if not sep or not key:
                raise ValueError(f"stimulus argument {part!r} is not of the form key=value")
            parsed[key.strip()] = value.strip()
    return parsed


@app.command()
@_clear_errors
def preview(
    loader: Annotated[str, typer.Argument(help="Stimulus loader, e.g. StimulusNoise (see `list`).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="PNG file to write.")] = Path("stimulus.png"),
    args: Annotated[
        list[str] | None, typer.Option("--args", help="Loader arguments key=value (repeat, or join with '+').")
    ] = None,
    data_name: Annotated[str, typer.Option(help="Dataset to take the image from.")] = "embedded",
    index: Annotated[int, typer.Option(help="Index of the test image.")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the stimulus noise.")] = 0,
    scale: Annotated[int, typer.Option(help="Pixels per image pixel in the strip.")] = 3,
    data_root: DataRoot = None,
) -> None:
    """Write a PNG strip of one stimulus sequence over time (labels under each frame)."""
    from dynvision.data.preview import render_strip

    stimulus_args = parse_stimulus_args(args or [])
    render_strip(
        loader, stimulus_args, output, data_name=data_name, index=index, seed=seed, scale=scale, data_root=data_root
    )
    typer.echo(f"{loader}: {output}")
