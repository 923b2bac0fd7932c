"""Command line of dynvision-viz (also mounted as `dynvision viz`).

Heavy libraries are imported inside the commands so that `--help` stays instant.
"""

from pathlib import Path
from typing import Annotated

import typer

from dynvision.viz.__about__ import __version__

app = typer.Typer(
    help="Process DynVision test outputs and plot figures.",
    no_args_is_help=True,
    add_completion=False,
    # plain click errors: one 'Error: ...' line, also in log files (no box drawn over several lines)
    rich_markup_mode=None,
)

Output = Annotated[Path, typer.Option("--output", "-o", help="File to write (written atomically).")]


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"dynvision-viz {__version__}")
        raise typer.Exit()


def _fail(error: Exception) -> None:
    typer.echo(f"Error: {error}", err=True)
    raise typer.Exit(1)


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Process DynVision test outputs and plot figures."""


@app.command()
def process(
    input: Annotated[Path, typer.Option("--input", "-i", help="A *_test_outputs.csv file.")],
    output: Output,
    responses: Annotated[
        Path | None, typer.Option(help="The test's *_test_responses.pt (adds one row per area with responses).")
    ] = None,
    dt: Annotated[float | None, typer.Option(help="ms per time step (default: from responses or sidecar).")] = None,
) -> None:
    """Turn one test into a tidy table: one row per sample, time step (and area)."""
    from dynvision.viz.contract import DataContractError
    from dynvision.viz.process import process_test

    try:
        n_rows = process_test(input, output, responses, dt=dt)
    except DataContractError as error:
        _fail(error)
    typer.echo(f"wrote {n_rows} rows to {output}")


@app.command()
def aggregate(
    output: Output,
    experiment: Annotated[str | None, typer.Argument(help="Experiment name, stored in an `experiment` column.")] = None,
    more_inputs: Annotated[list[Path] | None, typer.Argument(help="Further inputs (like --input).")] = None,
    input: Annotated[
        list[Path] | None,
        typer.Option("--input", "-i", help="Test-output CSVs, their *_test_responses.pt, or processed tables."),
    ] = None,
    parameter: Annotated[str | None, typer.Option(help="Swept parameter; must be an argument in the sidecars.")] = None,
    chunksize: Annotated[int, typer.Option(min=1, help="Rows held in memory at once.")] = 500_000,
) -> None:
    """Concatenate the tests of one experiment into one tidy table with their parameters as columns.

    Inputs may follow one --input flag (as `--input a.csv b.csv b.pt`) or be repeated flags.
    """
    from dynvision.viz.contract import DataContractError
    from dynvision.viz.process import aggregate_tests

    inputs = [*(input or []), *(more_inputs or [])]
    if experiment is not None and Path(experiment).suffix in (".csv", ".pt"):  # no experiment name given
        inputs, experiment = [Path(experiment), *inputs], None
    try:
        n_rows = aggregate_tests(
            inputs, output, experiment=experiment, parameter=parameter or None, chunksize=chunksize, progress=True
        )
    except DataContractError as error:
        _fail(error)
    typer.echo(f"wrote {n_rows} rows from {len(inputs)} files to {output}")


@app.command()
def plot(
    name: Annotated[str, typer.Argument(help="Plot name (see `dynvision-viz list`).")],
    input: Annotated[Path, typer.Option("--input", "-i", help="Table, log, model or config the plot reads.")],
    output: Annotated[
        list[Path], typer.Option("--output", "-o", help="File(s) to write, each in the format of its suffix.")
    ],
    parameter: Annotated[str | None, typer.Option(help="Swept parameter (x axis of summary, else colour).")] = None,
    hue: Annotated[str | None, typer.Option(help="Column that colours the lines (default: the parameter).")] = None,
    measure: Annotated[str | None, typer.Option(help="Summary measure (default depends on the parameter).")] = None,
    fit: Annotated[str | None, typer.Option(help="Summary fit: naka-rushton, power-law or none.")] = None,
    area: Annotated[str | None, typer.Option(help="Only this model area.")] = None,
    criterion: Annotated[float, typer.Option(help="Accuracy criterion of time_to_criterion.")] = 0.5,
    config: Annotated[Path | None, typer.Option(help="Visualization config with palettes.")] = None,
) -> None:
    """Draw one figure from a file and save it (format from each output's suffix: png, pdf, svg; repeat
    --output for several formats of the same drawing)."""
    import os

    import matplotlib

    matplotlib.use("Agg")
    from dynvision.viz.figures import save_figure
    from dynvision.viz.plots import PlotOptions, draw
    from dynvision.viz.style import CONFIG_ENV, find_config

    options = PlotOptions(parameter or None, hue, measure, fit, area, criterion)
    previous = os.environ.get(CONFIG_ENV)
    try:
        if config is not None:  # palettes are looked up while drawing; the variable is restored afterwards
            os.environ[CONFIG_ENV] = str(find_config(config))
        figure = draw(name, input, options)
    except (ValueError, RuntimeError) as error:
        _fail(error)
    finally:
        if previous is None:
            os.environ.pop(CONFIG_ENV, None)
        else:
            os.environ[CONFIG_ENV] = previous
    written = save_figure(figure, *output)
    typer.echo(f"wrote {', '.join(map(str, written))}")


@app.command()
def compare(
    input: Annotated[
        list[Path], typer.Option("--input", "-i", help="The tidy table (data.csv) of each network of the sweep.")
    ],
    parameter: Annotated[str, typer.Option(help="The swept parameter (a column of every table).")],
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="Folder of the comparison's files.")],
    more_inputs: Annotated[list[Path] | None, typer.Argument(help="Further tables (like --input).")] = None,
    bootstrap: Annotated[int, typer.Option(min=10, help="Bootstrap resamples per network.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
) -> None:
    """Compare the networks of a sweep: measures with 95 % bootstrap intervals (measures.csv), mean courses
    (courses.csv) and the figures that overlay the variants (comparison, comparison-courses; PNG and PDF)."""
    import matplotlib

    matplotlib.use("Agg")
    from dynvision.viz.compare import write_comparison
    from dynvision.viz.contract import DataContractError

    inputs = [*input, *(more_inputs or [])]
    try:
        written = write_comparison(inputs, parameter, output_dir, n_boot=bootstrap, seed=seed)
    except (DataContractError, ValueError) as error:
        _fail(error)
    typer.echo(f"compared {len(inputs)} networks: wrote {', '.join(path.name for path in written)} to {output_dir}")


@app.command("report")
def report_command(
    output: Output,
    reports: Annotated[Path, typer.Option(help="The project's reports folder (experiment_*.done, figures/).")] = Path(
        "reports"
    ),
    rulegraph: Annotated[Path | None, typer.Option(help="An SVG of the workflow's rule graph, shown last.")] = None,
    workflow_report: Annotated[
        str | None, typer.Option(help="Link to Snakemake's provenance report, relative to the output.")
    ] = None,
    bootstrap: Annotated[int, typer.Option(min=10, help="Bootstrap resamples per network.")] = 100,
) -> None:
    """Write the results-first HTML report of the finished experiments: key figures and measures with 95 %
    intervals first, then every network's figures with captions and configuration, the rule graph last."""
    import matplotlib

    matplotlib.use("Agg")
    from dynvision.viz.html_report import write_report

    if not reports.is_dir():
        _fail(ValueError(f"--reports {reports} is not a folder"))
    written = write_report(reports, output, rulegraph=rulegraph, workflow_report=workflow_report, n_boot=bootstrap)
    typer.echo(f"wrote {written}")


@app.command("list")
def list_plots() -> None:
    """List the plot names with what each reads and shows."""
    from dynvision.viz.plots import PLOTS

    for name, (_, description) in PLOTS.items():
        typer.echo(f"{name:<12} {description}")
