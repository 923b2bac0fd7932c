"""Publication figures of DynVision experiments: each function takes tidy data and returns a Figure.

Saving is the caller's job (`save_figure`); time axes are in ms and periods with a stimulus on screen are shaded.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dynvision.viz.files import atomic_path
from dynvision.viz.measures import accuracy_over_time, fit_naka_rushton, fit_power_law, stimulus_periods
from dynvision.viz.style import PAPER_WIDTH, figure_style, load_config, palette_for, stimulus_shade

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

TIME_LABEL = "Time (ms)"
FITS = ("naka-rushton", "power-law", "none")
CONNECTIONS = ("feedforward", "recurrence", "skip", "feedback")
MEASURE_LABELS = {
    "onset_latency": "Onset latency (ms)",
    "peak_latency": "Peak latency (ms)",
    "peak_response": "Peak response",
    "integrated_response": "Integrated response (x ms)",
    "repetition_ratio": "Second / first peak",
    "accuracy": "Accuracy",
    "time_to_criterion": "Time to criterion (ms)",
}


def _require(table: pd.DataFrame, columns: Sequence[str | None], what: str) -> None:
    missing = [name for name in columns if name is not None and name not in table.columns]
    if missing:
        raise ValueError(f"{what} needs columns {', '.join(missing)} (table has: {', '.join(map(str, table.columns))})")


def _grid(
    n_panels: int, max_columns: int = 4, height: float = 2.1, *, sharex: bool = True
) -> tuple[Figure, list[Axes]]:
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    columns = min(n_panels, max_columns)
    rows = -(-n_panels // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(PAPER_WIDTH, height * rows + 0.4), squeeze=False, sharex=sharex, layout="constrained"
    )
    axes = list(axes.ravel())
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    for extra in axes[n_panels:]:
        extra.remove()
    return figure, axes[:n_panels]


def _shade_stimulus(ax: Axes, table: pd.DataFrame, dt: float | None = None) -> None:
    """Shade the periods in which most samples had a stimulus on screen (from `stimulus_on`)."""
    if "stimulus_on" not in table.columns:
        return
    course = table.groupby("time_ms")["stimulus_on"].mean().sort_index()
    times = course.index.to_numpy(dtype=float)
    if dt is None:
        dt = float(np.median(np.diff(times))) if len(times) > 1 else 1.0
    for start, end in stimulus_periods(times, course.to_numpy() >= 0.5):
        ax.axvspan(start - dt / 2, end + dt / 2, zorder=0, **stimulus_shade())


def _conditions(table: pd.DataFrame, hue: str | None) -> list[Any]:
    """Values of `hue` in a reader's order: numbers ascending, configured names (areas V1..IT) in config order."""
    if not hue:
        return [None]
    values = list(dict.fromkeys(table[hue].dropna()))
    if all(isinstance(value, int | float | np.number) for value in values):
        return sorted(values)
    known = list(load_config()["palettes"].get(hue, {}))
    return sorted(
        values, key=lambda value: (known.index(str(value)) if str(value) in known else len(known), str(value))
    )


def _legend(figure: Figure, axes: list[Axes], title: str | None) -> None:
    handles, labels = axes[0].get_legend_handles_labels()
    if len(handles) > 1 or title:
        figure.legend(handles, labels, title=title, loc="outside right upper")


def plot_responses(
    table: pd.DataFrame,
    *,
    hue: str | None = None,
    value: str = "response_mean",
    areas: Sequence[str] | None = None,
) -> Figure:
    """Response over time, one panel per area and one line per condition `hue` (mean over samples).

    With `<value>_sem` in the table (from `summarise_table`) a band of one standard error is drawn.
    """
    _require(table, ["time_ms", "area", value, hue], "plot_responses")
    if table.empty:
        raise ValueError("plot_responses got an empty table")
    areas = list(areas) if areas is not None else _conditions(table, "area")
    conditions = _conditions(table, hue)
    colours = palette_for(hue or "area", conditions if hue else areas)
    with figure_style():
        figure, axes = _grid(len(areas))
        for ax, area in zip(axes, areas, strict=True):
            part = table[table["area"] == area]
            _shade_stimulus(ax, part)
            for condition in conditions:
                rows = part if hue is None else part[part[hue] == condition]
                course = rows.groupby("time_ms")[[value, *([f"{value}_sem"] if f"{value}_sem" in rows else [])]]
                course = course.mean().sort_index()
                colour = colours[area] if hue is None else colours[condition]
                ax.plot(course.index, course[value], color=colour, label=str(condition))
                if f"{value}_sem" in course:
                    low, high = course[value] - course[f"{value}_sem"], course[value] + course[f"{value}_sem"]
                    ax.fill_between(course.index, low, high, color=colour, alpha=0.2, linewidth=0)
            ax.set_title(area)
            ax.set_xlabel(TIME_LABEL)
        for ax in axes[:: min(len(axes), 4)]:
            ax.set_ylabel("Response (mean |activity|)" if value == "response_mean" else value.replace("_", " "))
        if hue:
            _legend(figure, axes, hue)
    return figure


def plot_performance(table: pd.DataFrame, *, hue: str | None = None) -> Figure:
    """Accuracy and classifier confidence over time, one line per condition `hue`.

    Takes a tidy table (with `correct`) or an already summarised one (with `accuracy`).
    """
    if "accuracy" not in table.columns:
        _require(table, ["time_ms", "correct", "guess_confidence", hue], "plot_performance")
        summary = accuracy_over_time(table, [hue] if hue else [])
        if "stimulus_on" in table.columns:
            summary = summary.merge(table.groupby("time_ms")["stimulus_on"].mean().reset_index(), on="time_ms")
    else:
        _require(table, ["time_ms", "guess_confidence", hue], "plot_performance")
        summary = table
    conditions = _conditions(summary, hue)
    colours = palette_for(hue, conditions)
    panels = [("accuracy", "Accuracy"), ("guess_confidence", "Confidence of the guess")]
    with figure_style():
        figure, axes = _grid(2, height=2.4)
        for ax, (column, label) in zip(axes, panels, strict=True):
            _shade_stimulus(ax, summary)
            for condition in conditions:
                rows = summary if hue is None else summary[summary[hue] == condition]
                course = rows.groupby("time_ms")[column].mean().sort_index()
                ax.plot(course.index, course.to_numpy(), color=colours[condition] or "black", label=str(condition))
            ax.set(xlabel=TIME_LABEL, ylabel=label, ylim=(-0.02, 1.02))
        if hue:
            _legend(figure, axes, hue)
    return figure


def _fit_label(fit: str, x: np.ndarray, y: np.ndarray) -> tuple[Any, str]:
    if fit == "naka-rushton":
        result = fit_naka_rushton(x, y)
        c50 = f"c50={result.c50:.2g}" if result.saturates else f"c50>{np.max(x):.2g} (no saturation)"
        return result, f"{c50}, n={result.n:.2g}"
    result = fit_power_law(x, y)
    return result, f"exponent={result.exponent:.2f}"


def plot_summary(
    measures: pd.DataFrame,
    *,
    parameter: str,
    measure: str,
    hue: str | None = None,
    fit: str = "none",
    error: str | None = None,
) -> Figure:
    """One summary measure of an experiment against its swept parameter, points per condition plus an optional fit.

    `fit` is "naka-rushton" (contrast response: c50 and n in the legend), "power-law" (temporal summation:
    exponent, log-log axes) or "none" (points joined by lines).
    """
    if fit not in FITS:
        raise ValueError(f"unknown fit {fit!r} (valid: {', '.join(FITS)})")
    _require(measures, [parameter, measure, hue, error], "plot_summary")
    conditions = _conditions(measures, hue)
    colours = palette_for(hue, conditions)
    with figure_style():
        figure, (ax,) = _grid(1, height=2.8)
        figure.set_size_inches(PAPER_WIDTH / 2 + (1.3 if hue else 0), 2.8)
        for condition in conditions:
            rows = measures if hue is None else measures[measures[hue] == condition]
            rows = rows.dropna(subset=[measure]).sort_values(parameter)
            x, y = rows[parameter].to_numpy(dtype=float), rows[measure].to_numpy(dtype=float)
            colour = colours[condition] or "black"
            label = str(condition) if hue else None
            try:
                result, description = _fit_label(fit, x, y) if fit != "none" else (None, "")
            except (ValueError, RuntimeError) as problem:  # too few or degenerate points: show them unfitted
                warnings.warn(f"no {fit} fit for {label or measure}: {problem}", stacklevel=2)
                result, description = None, "no fit"
            if result is None:
                text = f"{label}: {description}" if label and description else label or description or None
                ax.plot(x, y, "o-", color=colour, label=text, markersize=4)
            else:
                ax.plot(x, y, "o", color=colour, markersize=4)
                smooth = (
                    np.geomspace(max(x.min(), 1e-6), x.max(), 200)
                    if fit == "power-law"
                    else np.linspace(x.min(), x.max(), 200)
                )
                ax.plot(smooth, result(smooth), color=colour, label=f"{label}: {description}" if label else description)
            if error:
                ax.errorbar(x, y, yerr=rows[error].to_numpy(dtype=float), fmt="none", ecolor=colour, elinewidth=0.8)
        if fit == "power-law":
            from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

            ax.set(xscale="log", yscale="log")
            for axis in (ax.xaxis, ax.yaxis):
                axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
                axis.set_major_formatter(ScalarFormatter())
                axis.set_minor_formatter(NullFormatter())
        ax.set(xlabel=parameter.replace("_", " "), ylabel=MEASURE_LABELS.get(measure, measure.replace("_", " ")))
        if ax.get_legend_handles_labels()[0]:
            ax.legend(title=hue, loc="upper left", bbox_to_anchor=(1.02, 1))
    return figure


def read_training_log(path: str | Path) -> pd.DataFrame:
    """Read Lightning's CSVLogger `metrics.csv` into one row per epoch (last logged value of each metric)."""
    import pandas as pd

    log = pd.read_csv(path)
    _require(log, ["epoch"], f"{path}")
    metrics = [name for name in log.columns if name not in ("epoch", "step")]
    return log.groupby("epoch")[metrics].last().reset_index()


def plot_training(log: pd.DataFrame) -> Figure:
    """Losses and accuracies per epoch from a training log (see `read_training_log`), train solid, val dashed."""
    _require(log, ["epoch"], "plot_training")
    groups = [
        ("Loss", [name for name in log.columns if "loss" in name]),
        ("Accuracy", [name for name in log.columns if "acc" in name]),
    ]
    groups = [(label, names) for label, names in groups if names]
    if not groups:
        raise ValueError(f"plot_training found no loss or accuracy columns (columns: {', '.join(log.columns)})")
    colours = palette_for("metric", [name.replace("val_", "").replace("train_", "") for _, ns in groups for name in ns])
    with figure_style():
        figure, axes = _grid(len(groups), height=2.4)
        for ax, (label, names) in zip(axes, groups, strict=True):
            for name in names:
                rows = log[["epoch", name]].dropna()
                base = name.replace("val_", "").replace("train_", "")
                style = "--" if name.startswith("val") else "-"
                ax.plot(rows["epoch"], rows[name], style, color=colours[base], label=name, marker="o", markersize=3)
            ax.set(xlabel="Epoch", ylabel=label)
            ax.legend(loc="best")
    return figure


def plot_weights(weights: Mapping[str, Sequence[float] | np.ndarray], *, bins: int = 50) -> Figure:
    """Distribution of weights per connection type (one panel each), with mean and count in the title."""
    from matplotlib.ticker import MaxNLocator

    if not weights:
        raise ValueError("plot_weights got no weights")
    colours = palette_for("connection", list(weights))
    with figure_style():
        figure, axes = _grid(len(weights), height=2.0, sharex=False)
        for ax, (name, values) in zip(axes, weights.items(), strict=True):
            values = np.asarray(values, dtype=float).ravel()
            ax.hist(values, bins=bins, color=colours[name], alpha=0.85, density=True, histtype="stepfilled")
            ax.axvline(0, color="0.3", linewidth=0.8)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=3))
            ax.set_title(f"{name}\nn={values.size:,}, mean={values.mean():.2g}")
            ax.set_xlabel("Weight")
        axes[0].set_ylabel("Density")
        for ax in axes:
            ax.tick_params(labelbottom=True)
    return figure


def confusion_matrix(true: Sequence[int], predicted: Sequence[int], n_classes: int | None = None) -> np.ndarray:
    """Counts of (true, predicted) class pairs; rows are the true classes."""
    true, predicted = np.asarray(true, dtype=int), np.asarray(predicted, dtype=int)
    n_classes = n_classes or int(max(true.max(), predicted.max())) + 1
    matrix = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(matrix, (true, predicted), 1)
    return matrix


def plot_confusion(matrix: np.ndarray, *, class_names: Sequence[str] | None = None, normalize: bool = True) -> Figure:
    """Confusion matrix as a heat map (rows: true class, normalised to fractions unless `normalize=False`)."""
    import matplotlib.pyplot as plt

    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"confusion matrix must be square, got shape {matrix.shape}")
    names = list(class_names) if class_names is not None else [str(i) for i in range(len(matrix))]
    if len(names) != len(matrix):
        raise ValueError(f"{len(names)} class names for a {len(matrix)}-class matrix")
    if normalize:
        matrix = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    size = min(PAPER_WIDTH, 2.2 + 0.25 * len(matrix))
    with figure_style():
        figure, ax = plt.subplots(figsize=(size + 0.8, size), layout="constrained")
        image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1 if normalize else None)
        figure.colorbar(image, ax=ax, shrink=0.8, label="Fraction of true class" if normalize else "Count")
        ticks = np.arange(len(matrix))
        step = max(1, len(matrix) // 20)
        ax.set_xticks(ticks[::step], names[::step], rotation=90 if len(matrix) > 8 else 0)
        ax.set_yticks(ticks[::step], names[::step])
        ax.set(xlabel="Predicted class", ylabel="True class")
        ax.spines[:].set_visible(True)
        if len(matrix) <= 12:
            for (row, column), value in np.ndenumerate(matrix):
                text = f"{value:.2f}" if normalize else f"{int(value)}"
                colour = "white" if value > 0.6 * matrix.max() else "black"
                ax.text(column, row, text, ha="center", va="center", fontsize=7, color=colour)
    return figure


def plot_unrolling(
    areas: Sequence[str],
    *,
    n_timesteps: int,
    dt: float,
    delays: Mapping[str, float],
) -> Figure:
    """How the network unrolls: engineering time (feedforward within a step) vs biological time (delays in ms).

    `delays` maps connection types (feedforward, recurrence, skip, feedback) to their delay in ms; a connection
    with no delay given is not drawn. Arrows leave the first time step only and only the first steps are drawn
    (enough to read every delay).
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    unknown = [name for name in delays if name not in CONNECTIONS]
    if unknown:
        raise ValueError(f"unknown connection types {', '.join(unknown)} (valid: {', '.join(CONNECTIONS)})")
    if n_timesteps < 2 or dt <= 0:
        raise ValueError(f"unrolling needs n_timesteps >= 2 and dt > 0, got {n_timesteps} and {dt}")
    colours = palette_for("connection", CONNECTIONS)
    longest = max(round(delay / dt) for delay in delays.values()) if delays else 1
    n_timesteps = min(n_timesteps, max(6, 2 * longest + 2))  # the first steps show every delay; more only crowd
    times = np.arange(n_timesteps) * dt
    level_change = {"feedforward": 1, "recurrence": 0, "skip": 2, "feedback": -1}
    bend = {"feedforward": 0.0, "recurrence": -0.35, "skip": 0.3, "feedback": 0.0}
    with figure_style():
        figure, axes = plt.subplots(1, 2, figsize=(PAPER_WIDTH, 0.9 + 0.55 * len(areas)), layout="constrained")
        for ax, title, biological in ((axes[0], "Engineering time", False), (axes[1], "Biological time", True)):
            for level in range(len(areas)):
                ax.plot(times, np.full(n_timesteps, level), "o", color="0.25", markersize=4, zorder=3)
            for name, delay in delays.items():
                steps = round(delay / dt) if biological else int(name in ("recurrence", "feedback"))
                for level in range(len(areas)):
                    target = level + level_change[name]
                    if not 0 <= target < len(areas) or steps >= n_timesteps or (steps == 0 and target == level):
                        continue
                    arrow = {"arrowstyle": "->", "color": colours[name], "lw": 1.2, "shrinkA": 4, "shrinkB": 4}
                    arrow["connectionstyle"] = f"arc3,rad={bend[name]}"
                    ax.annotate("", xy=(steps * dt, target), xytext=(0, level), arrowprops=arrow, zorder=2)
            ax.set_yticks(range(len(areas)), list(areas))
            ax.set(xlabel=TIME_LABEL, title=title, ylim=(-0.5, len(areas) - 0.3))
            ax.set_xticks(times[:: max(1, n_timesteps // 10)])
        handles = [Line2D([], [], color=colours[name], label=f"{name} ({delays[name]:g} ms)") for name in delays]
        figure.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    return figure


def save_figure(figure: Figure, path: str | Path, *, dpi: int = 200) -> Path:
    """Write a figure atomically (temp file then rename) in the format of the suffix, and close it."""
    import matplotlib.pyplot as plt

    try:
        with atomic_path(path) as temporary:
            figure.savefig(temporary, dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(figure)
    return path
