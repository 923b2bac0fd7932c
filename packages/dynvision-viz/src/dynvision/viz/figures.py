"""Publication figures of DynVision experiments: each function takes tidy data and returns a Figure.

Saving is the caller's job (`save_figure`); time axes are in ms and periods with a stimulus on screen are shaded.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dynvision.viz.files import atomic_path
from dynvision.viz.measures import (
    accuracy_over_time,
    fit_naka_rushton,
    fit_power_law,
    repeat_flags,
    stimulus_periods,
)
from dynvision.viz.style import PAPER_WIDTH, figure_style, load_config, palette_for, stimulus_shade

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

TIME_LABEL = "Time (ms)"
FITS = ("naka-rushton", "power-law", "none")
CONNECTIONS = ("feedforward", "recurrence", "skip", "feedback")
MEASURE_LABELS = {
    "onset_latency": "Half-rise latency (ms)",
    "peak_latency": "Peak latency (ms)",
    "peak_response": "Peak response (a.u.)",
    "integrated_response": "Integrated response (a.u. x ms)",
    "repetition_ratio": "Repetition ratio (2nd / 1st)",
    "accuracy": "Accuracy",
    "end_accuracy": "Accuracy at stimulus end",
    "time_to_criterion": "Time to criterion (ms)",
}
PARAMETER_LABELS = {
    "contrast": "Contrast",
    "stimms": "Stimulus duration (ms)",
    "intervalms": "Interval (ms)",
    "ssnr": "Signal-to-noise ratio",
    "blurpx": "Blur (px)",
    "adapter": "Adapter",
    "topdown": "Split (top/bottom)",
    "stim": "Stimulus duration (frames)",
    "interval": "Interval (frames)",
    "area": "Area",
}
"""Labels of the swept parameters, in their physical units, and of the other columns figures group by (axes and
legend titles)."""


def parameter_label(name: str) -> str:
    """The axis label of a swept parameter (its name where none is known)."""
    return PARAMETER_LABELS.get(name, name.replace("_", " "))


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
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
    for extra in axes[n_panels:]:
        extra.remove()
    return figure, axes[:n_panels]


STIMULUS_BAR = 0.035
"""Height (fraction of the axes) of each condition's stimulus bar where conditions show stimuli at different times."""


def _shade_stimulus(
    ax: Axes, table: pd.DataFrame, hue: str | None = None, colours: Mapping[Any, str] | None = None
) -> None:
    """Mark when a stimulus is on screen (from `stimulus_on`): one shade where every condition of `hue` shows it at
    the same times, else a bar per condition in its colour along the bottom of the axes (durations, intervals)."""
    if "stimulus_on" not in table.columns:
        return
    conditions = _conditions(table, hue) if hue else [None]
    courses = {}
    for condition in conditions:
        rows = table if condition is None else table[table[hue] == condition]
        course = rows.groupby("time_ms")["stimulus_on"].mean().sort_index()
        courses[condition] = (course.index.to_numpy(dtype=float), course.to_numpy() >= 0.5)
    first_times, first_on = next(iter(courses.values()))
    if all(np.array_equal(times, first_times) and np.array_equal(on, first_on) for times, on in courses.values()):
        _shade_periods(ax, first_times, first_on)
        return
    for index, (condition, (times, on)) in enumerate(courses.items()):
        low = index * STIMULUS_BAR
        colour = (colours or {}).get(condition) or "0.3"
        _shade_periods(ax, times, on, ymin=low, ymax=low + STIMULUS_BAR * 0.8, color=colour, alpha=0.8)


def _shade_periods(ax: Axes, times: np.ndarray, on: np.ndarray, **style: Any) -> None:
    """Shade each run of time steps with a stimulus on, half a step either side of its frames (`style` overrides
    the configured shade, e.g. to draw a coloured bar)."""
    dt = float(np.median(np.diff(times))) if len(times) > 1 else 1.0
    for start, end in stimulus_periods(times, on):
        ax.axvspan(start - dt / 2, end + dt / 2, zorder=0, **{**stimulus_shade(), **style})


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


CHANCE_STYLE = {"color": "0.5", "linestyle": ":", "linewidth": 1.0}


def _chance(ax: Axes, chance: float | None, labelled: bool = True) -> None:
    """A dotted line at the accuracy of guessing (1 / number of classes), labelled on the axis (or, where panels
    are small, in the figure's legend: :func:`_with_chance`)."""
    if chance is None:
        return
    ax.axhline(chance, zorder=1, **CHANCE_STYLE)
    if labelled:
        ax.annotate("chance", (1.0, chance), xycoords=("axes fraction", "data"), xytext=(-2, 2),
                    textcoords="offset points", ha="right", va="bottom", fontsize=7, color="0.4")  # fmt: skip


def _with_chance(handles: list, labels: list[str], chance: float | None) -> tuple[list, list[str]]:
    """A legend's entries with the chance line's added (for figures whose panels are too small to label it)."""
    if chance is None:
        return handles, labels
    from matplotlib.lines import Line2D

    return [*handles, Line2D([], [], **CHANCE_STYLE)], [*labels, f"chance ({chance:.2g})"]


def chance_of(table: pd.DataFrame) -> float | None:
    """The chance accuracy of a table's read-out (its `n_classes` column), None where the table does not say."""
    if "n_classes" not in table.columns:
        return None
    classes = table["n_classes"].dropna().unique()
    return 1 / float(classes[0]) if len(classes) == 1 and classes[0] > 0 else None


def _legend(figure: Figure, axes: list[Axes], title: str | None) -> None:
    """One legend below the panels, in rows of up to six entries, so that the panels keep the figure's width."""
    handles, labels = axes[0].get_legend_handles_labels()
    if len(handles) > 1 or title:
        figure.legend(handles, labels, title=title, loc="outside lower center", ncols=min(len(handles), 6))


def _split_controls(table: pd.DataFrame, control: str | None) -> list[tuple[pd.DataFrame, str]]:
    """The rows of the full protocol (solid lines) and those of its single-presentation controls (dashed: the
    `control` column's false rows), each with its line style; the whole table, solid, without a control column."""
    if not control or control not in table.columns:
        return [(table, "-")]
    shown = repeat_flags(table[control]).to_numpy()
    return [(rows, style) for rows, style in ((table[shown], "-"), (table[~shown], "--")) if len(rows)]


def _control_legend(ax: Axes, table: pd.DataFrame, control: str | None) -> None:
    """A legend entry for the dashed lines of the controls, where there are some."""
    if len(_split_controls(table, control)) > 1:
        ax.plot([], [], "--", color="0.4", label="single presentation (control)")


def plot_responses(
    table: pd.DataFrame,
    *,
    hue: str | None = None,
    value: str = "response_mean",
    areas: Sequence[str] | None = None,
    control: str | None = None,
) -> Figure:
    """Response over time, one panel per area and one line per condition `hue` (mean over samples).

    With `<value>_sem` in the table (from `summarise_table`) a band of one standard error is drawn. Rows whose
    `control` column is false (the single-presentation controls of an interval experiment) are drawn dashed in
    their condition's colour, never averaged with the trials they control.
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
            _shade_stimulus(ax, _split_controls(part, control)[0][0], hue, colours)
            for rows_of_kind, style in _split_controls(part, control):
                for condition in conditions:
                    rows = rows_of_kind if hue is None else rows_of_kind[rows_of_kind[hue] == condition]
                    course = rows.groupby("time_ms")[[value, *([f"{value}_sem"] if f"{value}_sem" in rows else [])]]
                    course = course.mean().sort_index()
                    colour = colours[area] if hue is None else colours[condition]
                    label = str(condition) if style == "-" else None
                    ax.plot(course.index, course[value], style, color=colour, label=label)
                    if f"{value}_sem" in course:
                        low, high = course[value] - course[f"{value}_sem"], course[value] + course[f"{value}_sem"]
                        ax.fill_between(course.index, low, high, color=colour, alpha=0.2, linewidth=0)
            ax.set_title(area)
            ax.set_xlabel(TIME_LABEL)
        _control_legend(axes[0], table, control)
        for ax in axes[:: min(len(axes), 4)]:
            ax.set_ylabel("Response (a.u.)" if value == "response_mean" else value.replace("_", " "))
        if hue:
            _legend(figure, axes, parameter_label(hue))
    return figure


def plot_performance(
    table: pd.DataFrame, *, hue: str | None = None, chance: float | None = None, control: str | None = None
) -> Figure:
    """Accuracy and classifier confidence over time, one line per condition `hue`, with a line at `chance`; the
    rows whose `control` column is false are drawn dashed (see `plot_responses`).

    Takes a tidy table (with `correct`) or an already summarised one (with `accuracy`).
    """
    groups = [name for name in (hue, control) if name and name in table.columns]
    if "accuracy" not in table.columns:
        _require(table, ["time_ms", "correct", "guess_confidence", hue], "plot_performance")
        summary = accuracy_over_time(table, groups)
        if "stimulus_on" in table.columns:
            on = table.groupby([*groups, "time_ms"])["stimulus_on"].mean().reset_index()
            summary = summary.merge(on, on=[*groups, "time_ms"])
    else:
        _require(table, ["time_ms", "guess_confidence", hue], "plot_performance")
        summary = table
    conditions = _conditions(summary, hue)
    colours = palette_for(hue, conditions)
    panels = [("accuracy", "Accuracy"), ("guess_confidence", "Confidence of the guess")]
    with figure_style():
        figure, axes = _grid(2, height=2.4)
        for ax, (column, label) in zip(axes, panels, strict=True):
            _shade_stimulus(ax, _split_controls(summary, control)[0][0], hue, colours)
            for rows_of_kind, style in _split_controls(summary, control):
                for condition in conditions:
                    rows = rows_of_kind if hue is None else rows_of_kind[rows_of_kind[hue] == condition]
                    course = rows.groupby("time_ms")[column].mean().sort_index()
                    ax.plot(course.index, course.to_numpy(), style, color=colours[condition] or "black",
                            label=str(condition) if style == "-" else None)  # fmt: skip
            ax.set(xlabel=TIME_LABEL, ylabel=label, ylim=(-0.02, 1.02))
            if column == "accuracy":
                _chance(ax, chance)
        _control_legend(axes[0], summary, control)
        if hue:
            _legend(figure, axes, parameter_label(hue))
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
    chance: float | None = None,
) -> Figure:
    """One summary measure of an experiment against its swept parameter, points per condition plus an optional fit.

    `fit` is "naka-rushton" (contrast response: c50 and n in the legend), "power-law" (temporal summation:
    exponent, log-log axes) or "none" (points joined by lines). A parameter of names (an adapter: none, same,
    different) puts its levels side by side in alphabetical order, without a fit.
    """
    if fit not in FITS:
        raise ValueError(f"unknown fit {fit!r} (valid: {', '.join(FITS)})")
    _require(measures, [parameter, measure, hue, error], "plot_summary")
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    column = measures[parameter]
    numeric = is_numeric_dtype(column) and not is_bool_dtype(column)
    levels = None if numeric else sorted(column.astype(str).unique())
    if levels is not None:
        if fit != "none":
            raise ValueError(f"a {fit} fit needs a numeric parameter; {parameter!r} has the levels {', '.join(levels)}")
        measures = measures.assign(**{parameter: measures[parameter].astype(str).map(levels.index)})
    conditions = _conditions(measures, hue)
    colours = palette_for(hue, conditions)
    with figure_style():
        figure, (ax,) = _grid(1, height=2.8)
        figure.set_size_inches(PAPER_WIDTH / 2 + (1.3 if hue else 0), 2.8)
        if levels is None and fit != "power-law":  # a log axis for levels spanning a factor of 20 (contrast)
            _level_axis(ax, list(measures[parameter].dropna()))
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
                    if fit == "power-law" or ax.get_xscale() == "log"
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
        ax.set(xlabel=parameter_label(parameter), ylabel=MEASURE_LABELS.get(measure, measure.replace("_", " ")))
        if measure in ("accuracy", "end_accuracy"):  # the whole range: a near-chance model must look near chance
            ax.set_ylim(-0.02, 1.02)
            _chance(ax, chance)
        if levels is not None:
            ax.set_xticks(range(len(levels)), levels)
            ax.set_xlim(-0.5, len(levels) - 0.5)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(title=parameter_label(hue) if hue else None, loc="upper left", bbox_to_anchor=(1.02, 1))
    return figure


def _variant_colours(table: pd.DataFrame, keys: Sequence[str]) -> dict[str, str]:
    """Colour per variant: the palette of its key where one key tells the variants apart, else the fallback."""
    variants = table.drop_duplicates("variant")
    if len(keys) == 1:
        colours = palette_for(keys[0], variants[keys[0]].astype(str))
        return {row.variant: colours[str(getattr(row, keys[0]))] for row in variants.itertuples()}
    return palette_for(None, variants["variant"])


def _level_axis(ax: Axes, levels: Sequence[Any]) -> Callable[[Sequence[Any]], np.ndarray]:
    """Set up the x axis of a swept parameter and return the positions of its levels: a log axis for positive
    levels spanning a factor of 20 or more (contrast, durations), side by side for names."""
    numeric = all(isinstance(level, int | float | np.number) and not isinstance(level, bool) for level in levels)
    if not numeric:
        names = sorted(map(str, set(levels)))
        ax.set_xticks(range(len(names)), names)
        ax.set_xlim(-0.5, len(names) - 0.5)
        return lambda values: np.array([names.index(str(value)) for value in values], dtype=float)
    values = np.array(levels, dtype=float)
    if values.min() > 0 and values.max() / values.min() >= 20:
        from matplotlib.ticker import LogLocator, NullFormatter

        ax.set_xscale("log")
        decades = np.floor(np.log10(values.max())) - np.ceil(np.log10(values.min())) + 1  # powers of 10 in range
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0,) if decades >= 2 else (1.0, 2.0, 5.0)))  # labels never crowd
        ax.xaxis.set_major_formatter(lambda value, _: f"{value:g}")
        ax.xaxis.set_minor_formatter(NullFormatter())
    return lambda values: np.asarray(values, dtype=float)


def pooled_measures(measures: pd.DataFrame) -> pd.DataFrame:
    """The rows a figure shows of each variant: those pooling its seeds where it has several, else its one seed."""
    import pandas as pd

    pooled = measures[measures["seed"].astype(str) == "all"]
    alone = measures[~measures["variant"].isin(pooled["variant"])]
    return pd.concat([pooled, alone], ignore_index=True)


def plot_comparison(measures: pd.DataFrame, *, parameter: str, chance: float | None = None) -> Figure:
    """The measures of a sweep's variants against the swept parameter, with 95 % bootstrap intervals.

    Takes the table of `dynvision.viz.compare.compare_networks`: one row of panels per area measure (a panel per
    area), then accuracy at the end of the stimulus and time to criterion. A variant with several seeds shows
    the mean over seeds and the interval over seeds and samples.
    """
    _require(measures, ["variant", "seed", "level", "area", "measure", "value", "ci_low", "ci_high"], "plot_comparison")
    table = pooled_measures(measures[measures["level"].notna()])
    if table.empty:
        raise ValueError("plot_comparison got no measure per level")
    keys = [name for name in measures.columns[: list(measures.columns).index("variant")]]
    area_measures = [name for name in dict.fromkeys(table.loc[table["area"].astype(str) != "", "measure"])]
    areas = _conditions(table[table["area"].astype(str) != ""], "area") if area_measures else []
    panels = [[(measure, area) for area in areas] for measure in area_measures]
    accuracy = [measure for measure in ("end_accuracy", "time_to_criterion") if measure in set(table["measure"])]
    panels.append([(measure, "") for measure in accuracy])
    colours = _variant_colours(table, keys)
    variants = sorted(colours)
    columns = max(len(row) for row in panels)
    import matplotlib.pyplot as plt

    with figure_style():
        figure, grid = plt.subplots(
            len(panels), columns, figsize=(PAPER_WIDTH, 1.9 * len(panels) + 0.5), squeeze=False, layout="constrained"
        )
        for row, cells in zip(grid, panels, strict=True):
            for ax in row[len(cells) :]:
                ax.remove()
            for ax, (measure, area) in zip(row, cells, strict=False):
                rows = table[(table["measure"] == measure) & (table["area"].astype(str) == area)]
                position = _level_axis(ax, list(rows["level"]))
                for variant in variants:
                    part = rows[rows["variant"] == variant].sort_values("level")
                    if part.empty:
                        continue
                    x, y = position(part["level"]), part["value"].to_numpy(dtype=float)
                    error = np.abs(np.array([y - part["ci_low"], part["ci_high"] - y], dtype=float))
                    ax.errorbar(x, y, yerr=error, color=colours[variant], marker="o", markersize=3, capsize=2,
                                elinewidth=0.8, label=variant)  # fmt: skip
                ax.set_title(area or {"end_accuracy": "Accuracy"}.get(measure, MEASURE_LABELS[measure].split(" (")[0]))
                if not np.isfinite(rows["value"].to_numpy(dtype=float)).any():  # say why, rather than empty axes
                    reasons = rows["reason"].dropna().astype(str) if "reason" in rows else []
                    ax.set_xticks([]), ax.set_xticks([], minor=True), ax.set_yticks([])
                    why = reasons.iloc[0].replace("_", " ") if len(reasons) else "no value"
                    note = ax.text(0.5, 0.5, f"{why}\n(every network,\nevery level)", ha="center", va="center",
                                   transform=ax.transAxes, color="0.35", fontsize="small")  # fmt: skip
                    note.set_in_layout(False)  # the note must not widen its column
                    continue
                ax.set_xlabel(parameter_label(parameter))
                ax.set_ylabel(MEASURE_LABELS.get(measure, measure.replace("_", " ")))
                if measure == "end_accuracy":
                    ax.set_ylim(-0.02, 1.02)
                    _chance(ax, chance, labelled=False)
                else:
                    _keep_in_view(ax, rows, position, colours)
        handles, labels = next(ax for ax in grid.ravel() if ax.figure is figure).get_legend_handles_labels()
        handles, labels = _with_chance(handles, labels, chance if "end_accuracy" in accuracy else None)
        figure.legend(handles, labels, title=_sweep_title(keys, table), loc="outside right upper")
    return figure


OFF_SCALE = 5.0
"""A variant whose values reach beyond this many times the span of the others' is drawn off the scale."""


def _keep_in_view(
    ax: Axes, rows: pd.DataFrame, position: Callable[[Sequence[Any]], np.ndarray], colours: dict[str, str]
) -> None:
    """Keep the variants readable when one of them dwarfs the rest (a network whose activity diverged): the y axis
    spans the others, each value beyond it is a triangle on the top edge, and a note gives the variant's largest."""
    peaks = rows.groupby("variant")["value"].max().dropna().sort_values()
    if len(peaks) < 2:
        return
    low, second, top = float(rows["value"].min()), float(peaks.iloc[-2]), float(peaks.iloc[-1])
    if second <= low or top - low <= OFF_SCALE * (second - low):
        return
    others = rows[rows["variant"] != peaks.index[-1]]
    bottom = float(np.nanmin(others[["value", "ci_low"]].to_numpy(dtype=float)))
    ceiling = float(np.nanmax(others[["value", "ci_high"]].to_numpy(dtype=float)))
    span = ceiling - bottom
    ax.set_ylim(bottom - 0.05 * span, ceiling + 0.15 * span)
    limit = ax.get_ylim()[1]
    beyond = rows[rows["value"] > limit]
    for variant, part in beyond.groupby("variant"):
        ax.plot(position(part["level"]), np.full(len(part), limit), "^", color=colours[variant], clip_on=False,
                markersize=5)  # fmt: skip
        ax.text(0.02, 0.97, f"\u25b2 {variant} off scale, up to {part['value'].max():.3g}", transform=ax.transAxes,
                ha="left", va="top", fontsize="x-small", color=colours[variant])  # fmt: skip


def _sweep_title(keys: Sequence[str], table: pd.DataFrame) -> str:
    """Legend title of a comparison: the swept keys and how many images and seeds each variant's values pool."""
    counts = table.drop_duplicates("variant")[["n_samples", "n_seeds"]]
    ranges = zip(counts.min(), counts.max(), strict=True)
    images, seeds = (f"{low}" if low == high else f"{low}-{high}" for low, high in ranges)
    return f"{', '.join(keys) or 'variant'}\n(n = {images} images, {seeds} seed{'s' if seeds != '1' else ''})"


def plot_comparison_courses(bands: pd.DataFrame, *, parameter: str, chance: float | None = None) -> Figure:
    """Each variant's mean course at two levels of the swept parameter (rows), per area and for accuracy (columns),
    with 95 % bootstrap bands; each row shades the stimulus periods of its own level.

    Takes the table of `dynvision.viz.compare.course_bands`.
    """
    columns = ["variant", "level", "panel", "time_ms", "value", "ci_low", "ci_high", "stimulus_on"]
    _require(bands, columns, "plot_comparison_courses")
    if bands.empty:
        raise ValueError("plot_comparison_courses got an empty table")
    keys = [name for name in bands.columns[: list(bands.columns).index("variant")]]
    levels = list(dict.fromkeys(bands["level"]))
    panels = list(dict.fromkeys(bands["panel"]))
    colours = _variant_colours(bands, keys)
    import matplotlib.pyplot as plt

    with figure_style():
        figure, grid = plt.subplots(
            len(levels), len(panels), figsize=(PAPER_WIDTH, 1.8 * len(levels) + 0.5), squeeze=False,
            sharex=True, layout="constrained",
        )  # fmt: skip
        for row, level in zip(grid, levels, strict=True):
            for ax, panel in zip(row, panels, strict=True):
                rows = bands[(bands["level"] == level) & (bands["panel"] == panel)]
                shown = rows.drop_duplicates("time_ms").sort_values("time_ms")
                _shade_periods(ax, shown["time_ms"].to_numpy(dtype=float), shown["stimulus_on"].to_numpy(dtype=bool))
                for variant in sorted(colours):
                    part = rows[rows["variant"] == variant].sort_values("time_ms")
                    ax.plot(part["time_ms"], part["value"], color=colours[variant], label=variant)
                    ax.fill_between(part["time_ms"], part["ci_low"], part["ci_high"], color=colours[variant],
                                    alpha=0.2, linewidth=0)  # fmt: skip
                level_text = f"{level:g}" if isinstance(level, int | float | np.number) else str(level)
                ax.set_title(f"{panel.capitalize() if panel == 'accuracy' else panel}\n"  # two lines fit a panel
                             f"{parameter_label(parameter).split(' (')[0].lower()} {level_text}")  # fmt: skip
                if panel == "accuracy":
                    ax.set_ylim(-0.02, 1.02)
                    _chance(ax, chance, labelled=False)
            row[0].set_ylabel("Response (a.u.)")
        for ax in grid[-1]:
            ax.set_xlabel(TIME_LABEL)
        for ax in grid[:, -1] if panels[-1] == "accuracy" else []:
            ax.set_ylabel("Accuracy")
        handles, labels = _with_chance(
            *grid[0, 0].get_legend_handles_labels(), chance if "accuracy" in panels else None
        )
        figure.legend(handles, labels, title=", ".join(keys) or "variant", loc="outside right upper")
    return figure


def read_training_log(path: str | Path) -> pd.DataFrame:
    """Read Lightning's CSVLogger `metrics.csv` into one row per epoch (last logged value of each metric)."""
    import pandas as pd

    log = pd.read_csv(path)
    _require(log, ["epoch"], f"{path}")
    metrics = [name for name in log.columns if name not in ("epoch", "step")]
    return log.groupby("epoch")[metrics].last().reset_index()


def _epoch_metric(log: pd.DataFrame, split: str, name: str) -> str | None:
    """The column of a per-epoch metric: Lightning's ``<split>_<name>_epoch`` where it logs steps too, else
    ``<split>_<name>``."""
    return next((column for column in (f"{split}_{name}_epoch", f"{split}_{name}") if column in log.columns), None)


def plot_training(log: pd.DataFrame) -> Figure:
    """Loss and accuracy per epoch (training solid, validation dashed; epochs counted from 1) from a training log
    (see `read_training_log`), and, where the log has them, the validation accuracy per time step of the last
    epoch (``val_acc_tNNN``): when in the trial the read-out is right."""
    import re

    from matplotlib.ticker import MaxNLocator

    _require(log, ["epoch"], "plot_training")
    panels = []
    for name, label in (("loss", "Loss"), ("acc", "Accuracy")):
        columns = {split: _epoch_metric(log, split, name) for split in ("train", "val")}
        if any(columns.values()):
            panels.append((label, columns))
    steps = sorted(
        (int(match[1]), column) for column in log.columns if (match := re.fullmatch(r"val_acc_t(\d+)", column))
    )
    if not panels:
        raise ValueError(f"plot_training found no loss or accuracy columns (columns: {', '.join(log.columns)})")
    colours = palette_for("split", ["train", "val"])
    with figure_style():
        figure, axes = _grid(len(panels) + bool(steps), height=2.4, sharex=False)
        for ax, (label, columns) in zip(axes, panels, strict=False):
            for split, column in columns.items():
                if column is None:
                    continue
                rows = log[["epoch", column]].dropna()
                ax.plot(rows["epoch"] + 1, rows[column], "--" if split == "val" else "-", color=colours[split],
                        marker="o", markersize=3, label={"train": "training", "val": "validation"}[split])  # fmt: skip
            ax.set(xlabel="Epoch", ylabel=label, xlim=(0.5, log["epoch"].max() + 1.5))
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # whole epochs, also of one
            if label == "Accuracy":
                ax.set_ylim(-0.02, 1.02)
            ax.legend(loc="best")
        if steps:
            last = log.dropna(subset=[column for _, column in steps], how="all").iloc[-1]
            ax = axes[-1]
            ax.plot([step for step, _ in steps], [last[column] for _, column in steps], "o-", color=colours["val"])
            ax.set(xlabel="Time step", ylabel="Validation accuracy", ylim=(-0.02, 1.02),
                   title=f"per time step, epoch {int(last['epoch']) + 1}")  # fmt: skip
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
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


def save_figure(figure: Figure, *paths: str | Path, dpi: int = 200) -> list[Path]:
    """Write a figure atomically (temp file then rename) to each of `paths`, each in the format of its suffix
    (png, pdf, svg: a raster beside vector copies of the same drawing), and close it."""
    import matplotlib.pyplot as plt

    try:
        for path in paths:
            with atomic_path(path) as temporary:
                figure.savefig(temporary, dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(figure)
    return [Path(path) for path in paths]
