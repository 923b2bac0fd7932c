"""A results-first HTML report of a project's finished experiments, in one self-contained page.

The page leads with the results of every experiment whose ``experiment_<name>.done`` exists: its key figures, the
accuracy at the end of the stimulus and the experiment's main measure per network and level with 95 % bootstrap
intervals (the measures of :mod:`dynvision.viz.compare`, all of them in a table one can unfold). Then come the
networks one by one: every figure with its scientific caption (the training curve among them) and the exact
configuration the experiment ran with; the rule graph of the workflow last. Figures are embedded, so the file can
be mailed or archived on its own.
"""

from __future__ import annotations

import base64
import datetime
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dynvision.viz.compare import RESPONSE_MEASURES, compare_networks, read_networks
from dynvision.viz.contract import DataContractError
from dynvision.viz.figures import MEASURE_LABELS, pooled_measures
from dynvision.viz.files import atomic_path
from dynvision.viz.report import caption_path

KEY_PLOTS = ("comparison", "performance", "summary", "latency")
"""The figures shown with an experiment's results, in this order (the rest are shown per network)."""
BOOTSTRAP = 100
STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0 auto; max-width: 1180px;
       padding: 1.2em 2em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.1em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
.meta { color: #666; margin-top: 0; } .figures { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; flex: 1 1 420px; max-width: 560px; } figure img { width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.85em; color: #444; overflow-wrap: anywhere; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.5em; text-align: right; } th { background: #f4f4f4; }
td:first-child, th:first-child { text-align: left; } .ci { color: #777; }
details { margin: 0.5em 0; } pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.8em; }
nav a { margin-right: 1em; } .note { color: #a33; }
"""


@dataclass
class Experiment:
    """A finished experiment: its name, the configuration it ran with, and its figure and comparison folders."""

    name: str
    config: dict[str, Any]
    folders: list[Path]
    comparisons: list[Path]

    @property
    def settings(self) -> dict[str, Any]:
        return (self.config.get("experiment_config") or {}).get(self.name) or {}

    @property
    def parameter(self) -> str:
        return str(self.settings.get("parameter") or "")


def finished_experiments(reports: Path) -> list[Experiment]:
    """The experiments of ``reports`` with a ``.done`` flag, with their recorded configuration and folders."""
    experiments = []
    for done in sorted(reports.glob("experiment_*.done")):
        name = done.name.removeprefix("experiment_").removesuffix(".done")
        record = reports / f"experiment_{name}.config.yaml"
        config = yaml.safe_load(record.read_text()) if record.is_file() else {}
        folder = reports / "figures" / name
        folders = sorted(path for path in folder.glob(f"{name}_*") if path.is_dir())
        comparisons = sorted(path for path in folder.glob("comparison_*") if path.is_dir())
        experiments.append(Experiment(name, config or {}, folders, comparisons))
    return experiments


def write_report(
    reports: str | Path,
    output: str | Path,
    *,
    rulegraph: str | Path | None = None,
    workflow_report: str | None = None,
    n_boot: int = BOOTSTRAP,
) -> Path:
    """Write the report of the finished experiments under ``reports`` to ``output`` (atomically)."""
    reports, output = Path(reports), Path(output)
    experiments = finished_experiments(reports)
    networks = sum(len(experiment.folders) for experiment in experiments)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>DynVision results</title>"
        f"<style>{STYLE}</style></head><body>",
        "<h1>DynVision results</h1>",
        f"<p class='meta'>{_count(len(experiments), 'finished experiment')}, {_count(networks, 'network')} tested; "
        f"written {stamp}.</p>",
        "<nav>" + "".join(f"<a href='#{e.name}'>{_e(e.name)}</a>" for e in experiments) + "<a href='#networks'>"
        "networks</a><a href='#workflow'>workflow</a></nav>",
        "<h2 id='results'>Results</h2>",
    ]
    if not experiments:
        parts.append("<p>No experiment has finished yet: run <code>make experiment EXP=contrast</code>.</p>")
    for experiment in experiments:
        parts += _results(experiment, n_boot)
    parts.append("<h2 id='networks'>Networks</h2>")
    for experiment in experiments:
        for folder in experiment.folders:
            parts += _network(experiment, folder)
    parts += _workflow(rulegraph, workflow_report)
    parts.append("</body></html>\n")
    with atomic_path(output) as temporary:
        temporary.write_text("\n".join(parts))
    return output


def _results(experiment: Experiment, n_boot: int) -> list[str]:
    """An experiment's heading, what it shows, its measures tables and its key figures."""
    settings = experiment.settings
    levels = (settings.get("data_args") or {}).get(experiment.parameter)
    what = f"{_e(settings.get('data_loader', ''))}, {_e(experiment.parameter)} swept over {_e(_levels(levels))}"
    parts = [
        f"<h3 id='{_e(experiment.name)}'>{_e(experiment.name)}</h3>",
        f"<p>{what}; status {_e(_status(settings))}.</p>",
    ]
    if not experiment.folders:
        return [*parts, "<p class='note'>No figure folder found for this experiment.</p>"]
    parts += _measures(experiment, n_boot)
    # A sweep's comparison overlays its networks; without one, each network's own key figures.
    figures = [
        folder / f"{name}.png" for folder in experiment.comparisons for name in ("comparison", "comparison-courses")
    ]
    if not figures:
        figures = [folder / f"{name}.png" for folder in experiment.folders[:4] for name in KEY_PLOTS[1:]]
    parts.append(_figures(path for path in figures if path.is_file()))
    return parts


def _measures(experiment: Experiment, n_boot: int) -> list[str]:
    """The accuracy and the main measure per network and level, then every measure, with their intervals."""
    try:
        tables = [folder / "data.csv" for folder in experiment.folders]
        measures = compare_networks(read_networks(tables, experiment.parameter), experiment.parameter, n_boot=n_boot)
    except (DataContractError, ValueError) as error:
        return [f"<p class='note'>Measures not computed: {_e(str(error))}</p>"]
    parts = []
    pooled = pooled_measures(measures)
    parts.append(f"<p>n = {int(pooled['n_samples'].max())} images per level and network; 95 % bootstrap intervals.</p>")
    parts.append(_pivot(pooled, "end_accuracy", "Accuracy at the end of the stimulus"))
    parts.append(_pivot(pooled, "time_to_criterion", MEASURE_LABELS["time_to_criterion"]))
    last_area = [area for area in pooled["area"].dropna().unique() if area][-1:]
    rows = pooled[pooled["area"].isin(last_area)]
    for measure in RESPONSE_MEASURES.get(experiment.parameter, ()):
        parts.append(_pivot(rows, measure, f"{MEASURE_LABELS.get(measure, measure)} of {''.join(last_area)}"))
    parts.append(
        "<details><summary>All measures (every area, seed and fit)</summary>"
        + measures.to_html(index=False, na_rep="", float_format=lambda value: f"{value:.4g}")
        + "</details>"
    )
    return parts


def _pivot(measures: Any, measure: str, title: str) -> str:
    """One measure as a table: a row per network, a column per level, ``value [low, high]`` in each cell."""
    rows = measures[measures["measure"] == measure]
    if rows.empty:
        return ""
    levels = list(dict.fromkeys(rows["level"]))
    head = "".join(f"<th>{_e(_number(level))}</th>" for level in levels)
    body = []
    for (variant, seed), group in rows.groupby(["variant", "seed"], sort=False):
        cells = {str(level): row for level, row in zip(group["level"], group.itertuples(), strict=True)}
        label = variant if seed == "all" else f"{variant} (seed {seed})"
        body.append(f"<tr><td>{_e(label)}</td>" + "".join(_cell(cells.get(str(level))) for level in levels) + "</tr>")
    return f"<table><caption>{_e(title)}</caption><tr><th>network</th>{head}</tr>{''.join(body)}</table>"


def _cell(row: Any) -> str:
    if row is None or row.value != row.value:  # missing or NaN
        return f"<td title='{_e(getattr(row, 'reason', ''))}'>&ndash;</td>"
    return f"<td>{row.value:.3g} <span class='ci'>[{row.ci_low:.3g}, {row.ci_high:.3g}]</span></td>"


def _network(experiment: Experiment, folder: Path) -> list[str]:
    """One network of an experiment: every figure with its caption, then the configuration the run used."""
    plots = sorted(folder.glob("*.png"), key=lambda path: (path.stem not in KEY_PLOTS, path.stem))
    config = yaml.safe_dump(experiment.config, sort_keys=False) if experiment.config else "(no record)"
    return [
        f"<h3>{_e(folder.name)}</h3>",
        _figures(plots, captions=True),
        f"<details><summary>Configuration of the run</summary><pre>{_e(config)}</pre></details>",
    ]


def _workflow(rulegraph: str | Path | None, workflow_report: str | None) -> list[str]:
    parts = ["<h2 id='workflow'>Workflow</h2>"]
    if workflow_report:
        parts.append(f"<p>Provenance of every file (rules, code, timing): <a href='{_e(workflow_report)}'>"
                     f"{_e(workflow_report)}</a>.</p>")  # fmt: skip
    if rulegraph is not None and Path(rulegraph).is_file():
        svg = Path(rulegraph).read_text()
        parts.append(f"<div class='rulegraph'>{svg[svg.find('<svg') :]}</div>")
    return parts


def _figures(paths: Iterable[Path], *, captions: bool = False) -> str:
    """Figures embedded as data URLs, each with its caption (the scientific one of its plot) or its file name."""
    items = []
    for path in paths:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        caption = _caption(path.stem) if captions else _label(path)
        items.append(
            f"<figure><img alt='{_e(path.stem)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{caption}</figcaption></figure>"
        )
    return f"<div class='figures'>{''.join(items)}</div>"


def _label(path: Path) -> str:
    """A key figure's name: the plot and the network (its folder's name after the experiment's)."""
    network = path.parent.name.partition("_")[2]
    return _e(f"{path.stem}: {network}" if not path.parent.name.startswith("comparison_") else path.stem)


def _caption(plot: str) -> str:
    """The plot's reStructuredText caption as HTML (bold and paragraphs), or its name."""
    try:
        text = caption_path(plot).read_text()
    except ValueError:
        return _e(plot)
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", _e(text))
    return "".join(f"<p>{paragraph.strip()}</p>" for paragraph in text.split("\n\n") if paragraph.strip())


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _status(settings: dict[str, Any]) -> str:
    status = settings.get("status", "trained")
    return ", ".join(map(str, status)) if isinstance(status, list) else str(status)


def _levels(levels: Any) -> str:
    return ", ".join(_number(level) for level in levels) if isinstance(levels, list) else _number(levels)


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)
