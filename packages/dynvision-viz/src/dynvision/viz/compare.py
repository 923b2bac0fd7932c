"""The models of a sweep compared: every measure with a bootstrap confidence interval, and figures that overlay them.

Input: the tidy table of each network of a sweep (``data.csv`` of a figure folder: one model variant, one seed, every
level of the swept parameter). Columns that are constant in each table but differ between tables name the
*variant* (``rctype=self``, ``adapt=0, norm=false``); ``seed`` is the replicate.

Confidence intervals: each network is resampled over its test images (``n_boot`` multinomial resamples of the
sample indices, the same resample for every level and area, so a fit across levels sees paired replicates); with
several seeds, a replicate of the variant draws seeds with replacement and averages one resample of each drawn
seed (a two-level bootstrap over seeds and samples). Intervals are the 2.5 and 97.5 percentiles of the replicates.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dynvision.viz.contract import RESPONSE_DELAY, DataContractError, read_header, reading
from dynvision.viz.measures import (
    CONTROL,
    Course,
    NakaRushtonFit,
    first_response,
    fit_naka_rushton,
    fit_power_law,
    repeat_flags,
    repetition_parts,
    stimulus_periods,
    time_to_criterion,
)
from dynvision.viz.process import CHUNKSIZE

if TYPE_CHECKING:
    import pandas as pd

BOOTSTRAP = 200
"""Bootstrap resamples per network (the percentile interval's ends are stable to about 0.01 of the spread)."""
CRITERION = 0.5
"""Accuracy that `time_to_criterion` waits for."""
ALL_SEEDS = "all"
"""The `seed` of a variant's rows that pool its seeds."""

PER_ROW = {
    "sample_index", "times_index", "time_ms", "area", "label_index", "guess_index", "first_label_index",
    "guess_confidence", "first_label_confidence", "stimulus_on", "correct", "response_mean", "response_std",
    RESPONSE_DELAY, "experiment",
}  # fmt: skip
"""Columns that change from row to row of one test: never part of a variant or a condition."""
OUTCOMES = {"settled"}
"""Columns a test measures (the blank-decay flag), not a setting it was given: never part of a variant."""
SEED = "seed"

RESPONSE_MEASURES = {
    "contrast": ("peak_response", "onset_latency"),
    "stim": ("integrated_response",),
    "stimms": ("integrated_response",),
    "interval": ("repetition_ratio",),
    "intervalms": ("repetition_ratio",),
}
"""The area measures compared per swept parameter (accuracy and time to criterion are compared for every one)."""
FITS = {
    "contrast": ("peak_response", "naka-rushton"),
    "stim": ("integrated_response", "power-law"),
    "stimms": ("integrated_response", "power-law"),
}
"""A fit across the levels per swept parameter: which measure it fits and with what."""
FIT_MEASURES = {"naka-rushton": ("c50", "n"), "power-law": ("exponent",)}
ACCURACY_MEASURES = ("end_accuracy", "time_to_criterion")
"""Accuracy at the last frame with a stimulus, and when accuracy first reaches the criterion."""

MEASURE_COLUMNS = [
    "variant", SEED, "parameter", "level", "area", "measure", "value", "ci_low", "ci_high", "n_samples", "n_seeds",
    "reason",
]  # fmt: skip
"""The columns of the measures table after the variant's own columns (see the package README)."""


@dataclass
class Network:
    """One input table: the courses of one network (variant x seed) per condition, as samples x time matrices."""

    variant: dict[str, Any]
    seed: str
    times: np.ndarray
    responses: dict[tuple[Any, bool, str], np.ndarray] = field(default_factory=dict)
    """(level, shown twice, area) -> samples x time."""
    correct: dict[tuple[Any, bool], np.ndarray] = field(default_factory=dict)
    stimulus: dict[tuple[Any, bool], np.ndarray] = field(default_factory=dict)
    """(level, shown twice) -> whether a stimulus is on at each time step."""
    delays: dict[str, float] = field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        return next(iter(self.correct.values())).shape[0]

    def periods(self, condition: tuple[Any, bool]) -> list[tuple[float, float]]:
        return stimulus_periods(self.times, self.stimulus[condition]) or [(float(self.times[0]), float(self.times[-1]))]


def _constants(path: Path, header: list[str], parameter: str) -> dict[str, Any]:
    """The columns of a table that hold one value throughout (its sidecar's parameters), with that value."""
    import pandas as pd

    candidates = [name for name in header if name not in PER_ROW | OUTCOMES and name not in (parameter, CONTROL)]
    values: dict[str, set[Any]] = {name: set() for name in candidates}
    for chunk in pd.read_csv(path, usecols=candidates, chunksize=CHUNKSIZE, dtype=str, keep_default_na=False):
        for name in candidates:
            values[name].update(chunk[name].unique())
    return {name: next(iter(found)) for name, found in values.items() if len(found) == 1}


def read_network(path: str | Path, parameter: str) -> Network:
    """The per-sample courses of one network's table, checked for the columns a comparison needs."""
    path = Path(path)
    with reading(path):
        return _read_network(path, parameter)


def _read_network(path: Path, parameter: str) -> Network:
    import pandas as pd

    header = read_header(path)
    missing = [name for name in (parameter, "sample_index", "time_ms", "correct", "stimulus_on") if name not in header]
    if missing:
        raise DataContractError(f"{path}: missing columns {', '.join(missing)} (a tidy experiment table has them)")
    constants = _constants(path, header, parameter)
    areas = "area" in header and "response_mean" in header
    columns = [parameter, "sample_index", "time_ms", "correct", "stimulus_on"]
    columns += [CONTROL] if CONTROL in header else []
    columns += ["area", "response_mean", *([RESPONSE_DELAY] if RESPONSE_DELAY in header else [])] if areas else []
    table = pd.read_csv(path, usecols=columns)
    table[CONTROL] = repeat_flags(table[CONTROL]).to_numpy() if CONTROL in table else True
    times = np.sort(table["time_ms"].unique()).astype(float)
    network = Network(
        variant={name: value for name, value in constants.items() if name != SEED},
        seed=str(constants.get(SEED, "")),
        times=times,
    )
    first_area = table["area"].iloc[0] if areas else None
    for (level, shown), rows in table.groupby([parameter, CONTROL], sort=True):
        one = rows[rows["area"] == first_area] if areas else rows
        network.correct[(level, shown)] = _matrix(one, "correct", times, path)
        network.stimulus[(level, shown)] = one.groupby("time_ms")["stimulus_on"].mean().reindex(times).to_numpy() >= 0.5
        if areas:
            for area, part in rows.groupby("area", sort=False):
                network.responses[(level, shown, str(area))] = _matrix(part, "response_mean", times, path)
                if RESPONSE_DELAY in part:
                    network.delays[str(area)] = float(part[RESPONSE_DELAY].iloc[0])
    if not network.correct:
        raise DataContractError(f"{path}: holds no rows")
    return network


def _matrix(rows: pd.DataFrame, value: str, times: np.ndarray, path: Path) -> np.ndarray:
    """Samples x time of one condition; a condition missing a time step of the table is refused."""
    matrix = rows.pivot_table(index="sample_index", columns="time_ms", values=value, aggfunc="mean")
    if matrix.shape[1] != len(times) or matrix.isna().any().any():
        raise DataContractError(f"{path}: a condition lacks some time steps or samples of the table")
    return matrix.to_numpy(dtype=float)


def variant_keys(networks: Sequence[Network]) -> list[str]:
    """The columns whose values tell the variants apart (in the tables' column order)."""
    names = list(dict.fromkeys(name for network in networks for name in network.variant))
    return [name for name in names if len({str(network.variant.get(name)) for network in networks}) > 1]


def variant_label(variant: dict[str, Any], keys: Sequence[str]) -> str:
    """The value of the one key that tells variants apart (``self``), else ``adapt=0, norm=false``; one variant
    is ``all``."""
    if not keys:
        return "all"
    if len(keys) == 1:
        return str(variant.get(keys[0]))
    return ", ".join(f"{key}={variant.get(key)}" for key in keys)


# --- measures of one network with their bootstrap replicates -----------------------------------------------------


def resample_weights(n_samples: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap resamples as weights (n_boot x n_samples, each row sums to 1): ``weights @ matrix`` are the
    resampled mean courses, without materialising the resampled matrices."""
    counts = rng.multinomial(n_samples, np.full(n_samples, 1 / n_samples), size=n_boot)
    return counts / n_samples


@dataclass
class Estimate:
    """A measure's value on all samples, its bootstrap replicates and why it may be NaN."""

    value: float
    replicates: np.ndarray
    reason: str = "ok"


def _estimate(measure: Callable[[np.ndarray], tuple[float, str]], mean: np.ndarray, resampled: np.ndarray) -> Estimate:
    value, reason = measure(mean)
    return Estimate(value, np.array([measure(course)[0] for course in resampled]), reason)


def network_estimates(
    network: Network, parameter: str, weights: np.ndarray, *, criterion: float = CRITERION
) -> dict[tuple[str, Any, str], Estimate]:
    """Every measure of one network: (measure, level, area) -> estimate; fits have level None, accuracy area ""."""
    estimates: dict[tuple[str, Any, str], Estimate] = {}
    shown = [condition for condition in network.correct if condition[1]]
    for condition in shown:
        level, periods = condition[0], network.periods(condition)
        last_on = np.flatnonzero(network.stimulus[condition])
        end = last_on[-1] if len(last_on) else len(network.times) - 1
        correct = network.correct[condition]
        accuracy = (correct.mean(0), weights @ correct)
        at_end = partial(_at, index=end)
        reached = partial(_reached, times=network.times, criterion=criterion, onset=periods[0][0])
        estimates[("end_accuracy", level, "")] = _estimate(at_end, *accuracy)
        estimates[("time_to_criterion", level, "")] = _estimate(reached, *accuracy)
        measures = RESPONSE_MEASURES.get(parameter, ())
        for (other, twice, area), matrix in network.responses.items():
            if (other, twice) != condition or not measures:
                continue
            course, delay = (matrix.mean(0), weights @ matrix), network.delays.get(area, 0.0)
            if "repetition_ratio" in measures:
                control = network.responses.get((level, False, area))
                single = None if control is None else (control.mean(0), weights @ control)
                estimates[("repetition_ratio", level, area)] = _repetition_estimate(
                    network.times, periods, delay, course, single
                )
            first = [measure for measure in measures if measure != "repetition_ratio"]
            if first:  # the first response's measures, computed once per resample
                value, *replicates = (first_response(Course(network.times, values, periods, delay))
                                      for values in (course[0], *course[1]))  # fmt: skip
                for measure in first:
                    draws = np.array([replicate[measure] for replicate in replicates], dtype=float)
                    estimates[(measure, level, area)] = Estimate(float(value[measure]), draws, value["reason"])
    if parameter in FITS:
        estimates.update(_fit_estimates(estimates, *FITS[parameter]))
    return estimates


def _at(course: np.ndarray, *, index: int) -> tuple[float, str]:
    return float(course[index]), "ok"


def _reached(course: np.ndarray, *, times: np.ndarray, criterion: float, onset: float) -> tuple[float, str]:
    value = time_to_criterion(times, course, criterion, onset=onset)
    return value, "ok" if not math.isnan(value) else "not_reached"


def _repetition_estimate(
    times: np.ndarray,
    periods: list[tuple[float, float]],
    delay: float,
    course: tuple[np.ndarray, np.ndarray],
    control: tuple[np.ndarray, np.ndarray] | None,
) -> Estimate:
    """The repetition ratio, against the control's courses resampled with the same images where there is one."""
    mean, resampled = course
    ratio, _, _, reason = repetition_parts(times, mean, periods, None if control is None else control[0], delay)
    replicates = [
        repetition_parts(times, values, periods, None if control is None else control[1][index], delay)[0]
        for index, values in enumerate(resampled)
    ]
    return Estimate(float(ratio), np.array(replicates), reason if control is not None else f"{reason}_no_control")


def _fit_estimates(
    estimates: dict[tuple[str, Any, str], Estimate], measure: str, fit: str
) -> dict[tuple[str, Any, str], Estimate]:
    """The fit across levels per area, on the values and on each bootstrap replicate (paired across levels)."""
    fitted = {}
    areas = dict.fromkeys(area for (name, _, area) in estimates if name == measure)
    for area in areas:
        levels = sorted(level for (name, level, other) in estimates if name == measure and other == area)
        values = np.array([estimates[(measure, level, area)].value for level in levels])
        replicates = np.array([estimates[(measure, level, area)].replicates for level in levels]).T
        x = np.array(levels, dtype=float)
        point, reason, start = _fit(fit, x, values)
        draws = np.array([_fit(fit, x, row, start)[0] for row in replicates]).reshape(len(replicates), -1)
        for index, name in enumerate(FIT_MEASURES[fit]):
            fitted[(name, None, area)] = Estimate(point[index], draws[:, index], reason)
    return fitted


def _fit(fit: str, x: np.ndarray, y: np.ndarray, start: NakaRushtonFit | None = None) -> tuple[list[float], str, Any]:
    """The fit's parameters (NaN with a reason where it cannot be made; a c50 beyond the levels is NaN too), and the
    Naka-Rushton fit itself (a replicate's fit starts from the data's: ``start``)."""
    names = FIT_MEASURES[fit]
    keep = np.isfinite(y)
    try:
        if fit == "naka-rushton":
            result = fit_naka_rushton(x[keep], y[keep], start)
            if not result.saturates:
                return [math.nan] * len(names), "no_saturation", result
            return [result.c50, result.n], "ok", result
        return [fit_power_law(x[keep], y[keep]).exponent], "ok", None
    except (ValueError, RuntimeError):
        return [math.nan] * len(names), "no_fit", None


# --- the table of a sweep -----------------------------------------------------------------------------------------


def _interval(replicates: np.ndarray) -> tuple[float, float]:
    finite = replicates[np.isfinite(replicates)]
    if len(finite) < max(2, len(replicates) // 2):  # most resamples undefined: no interval worth giving
        return math.nan, math.nan
    low, high = np.percentile(finite, [2.5, 97.5])
    return float(low), float(high)


def compare_networks(
    networks: Sequence[Network],
    parameter: str,
    *,
    n_boot: int = BOOTSTRAP,
    seed: int = 0,
    criterion: float = CRITERION,
) -> pd.DataFrame:
    """The measures table of a sweep: one row per variant x seed x level x area x measure, then the rows that pool
    each variant's seeds (seed ``all``) when it has several. See the package README for the columns."""
    import pandas as pd

    if not networks:
        raise DataContractError("no networks to compare")
    keys = variant_keys(networks)
    rng = np.random.default_rng(seed)
    rows, per_variant = [], {}
    for network in networks:
        label = variant_label(network.variant, keys)
        weights = resample_weights(network.n_samples, n_boot, rng)
        estimates = network_estimates(network, parameter, weights, criterion=criterion)
        per_variant.setdefault(label, (network.variant, [], []))[1].append(estimates)
        per_variant[label][2].append(network.n_samples)
        for (measure, level, area), estimate in estimates.items():
            interval = _interval(estimate.replicates)
            where = (parameter, level, area, measure)
            rows.append(
                _row(
                    network.variant,
                    keys,
                    label,
                    network.seed,
                    where,
                    estimate.value,
                    interval,
                    network.n_samples,
                    1,
                    estimate.reason,
                )
            )
    for label, (variant, seeds, n_samples) in per_variant.items():
        if len(seeds) < 2:
            continue
        for measure, level, area in seeds[0]:
            found = [estimates[(measure, level, area)] for estimates in seeds if (measure, level, area) in estimates]
            values = np.array([estimate.value for estimate in found])
            replicates = _pooled_replicates([estimate.replicates for estimate in found], rng)
            value = float(np.nanmean(values)) if np.isfinite(values).any() else math.nan
            reason = "ok" if np.isfinite(values).all() else next(e.reason for e in found if not np.isfinite(e.value))
            where = (parameter, level, area, measure)
            rows.append(
                _row(
                    variant,
                    keys,
                    label,
                    ALL_SEEDS,
                    where,
                    value,
                    _interval(replicates),
                    sum(n_samples),
                    len(found),
                    reason,
                )
            )
    return pd.DataFrame(rows, columns=[*keys, *MEASURE_COLUMNS])


def _pooled_replicates(replicates: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Two-level bootstrap: each replicate draws seeds with replacement and averages one resample of each."""
    stacked = np.array(replicates)  # seeds x n_boot
    n_seeds, n_boot = stacked.shape
    drawn = rng.integers(0, n_seeds, size=(n_boot, n_seeds))
    with warnings.catch_warnings():  # a replicate whose drawn seeds all give NaN stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(stacked[drawn, np.arange(n_boot)[:, None]], axis=1)


def _row(
    variant: dict[str, Any],
    keys: Sequence[str],
    label: str,
    seed: str,
    where: tuple[str, Any, str, str],
    value: float,
    interval: tuple[float, float],
    n_samples: int,
    n_seeds: int,
    reason: str,
) -> dict[str, Any]:
    """One row of the measures table; ``where`` is (parameter, level, area, measure)."""
    parameter, level, area, measure = where
    return {
        **{key: variant.get(key) for key in keys},
        "variant": label,
        SEED: seed,
        "parameter": parameter if level is not None else "",
        "level": level,
        "area": area,
        "measure": measure,
        "value": value,
        "ci_low": interval[0],
        "ci_high": interval[1],
        "n_samples": n_samples,
        "n_seeds": n_seeds,
        "reason": reason,
    }


# --- time courses of a sweep --------------------------------------------------------------------------------------


def extreme_levels(levels: Sequence[Any]) -> list[Any]:
    """The highest and the lowest level (numbers), or the last and the first (names): the courses compared."""
    ordered = sorted(set(levels), key=lambda level: (isinstance(level, str), level))
    return list(dict.fromkeys([ordered[-1], ordered[0]]))


def course_bands(
    networks: Sequence[Network], *, levels: Sequence[Any] | None = None, n_boot: int = BOOTSTRAP, seed: int = 0
) -> pd.DataFrame:
    """Each variant's mean course per level and panel (each area's response, then ``accuracy``) over samples and
    seeds, with its 95 % bootstrap band; by default for the extreme levels (:func:`extreme_levels`).

    Columns: the variant keys, `variant`, `level`, `panel`, `time_ms`, `value`, `ci_low`, `ci_high`, `stimulus_on`.
    """
    import pandas as pd

    keys = variant_keys(networks)
    levels = list(levels) if levels is not None else extreme_levels([level for level, _ in networks[0].correct])
    rng = np.random.default_rng(seed)
    groups: dict[str, list[Network]] = {}
    for network in networks:
        groups.setdefault(variant_label(network.variant, keys), []).append(network)
    frames = []
    for label, members in groups.items():
        for level in levels:
            condition = (level, True)
            if not all(condition in network.correct for network in members):
                continue
            areas = dict.fromkeys(area for (other, twice, area) in members[0].responses if (other, twice) == condition)
            panels = {area: [network.responses[(level, True, area)] for network in members] for area in areas}
            panels["accuracy"] = [network.correct[condition] for network in members]
            for panel, matrices in panels.items():
                means = np.array([matrix.mean(0) for matrix in matrices])
                resampled = np.array([resample_weights(len(m), n_boot, rng) @ m for m in matrices])  # seeds x boot x T
                drawn = rng.integers(0, len(matrices), size=(n_boot, len(matrices)))
                pooled = resampled[drawn, np.arange(n_boot)[:, None]].mean(axis=1)
                low, high = np.percentile(pooled, [2.5, 97.5], axis=0)
                frames.append(
                    pd.DataFrame(
                        {
                            **{key: members[0].variant.get(key) for key in keys},
                            "variant": label,
                            "level": level,
                            "panel": panel,
                            "time_ms": members[0].times,
                            "value": means.mean(0),
                            "ci_low": low,
                            "ci_high": high,
                            "stimulus_on": members[0].stimulus[condition],
                        }
                    )
                )
    return pd.concat(frames, ignore_index=True)


def read_networks(paths: Sequence[str | Path], parameter: str) -> list[Network]:
    """The networks of a sweep, one per table; two tables of the same variant and seed are refused."""
    networks = [read_network(path, parameter) for path in paths]
    keys = variant_keys(networks)
    seen: dict[tuple[str, str], Path] = {}
    for path, network in zip(paths, networks, strict=True):
        key = (variant_label(network.variant, keys), network.seed)
        if key in seen:
            raise DataContractError(f"{path} and {seen[key]} hold the same variant and seed {key}")
        seen[key] = Path(path)
    return networks


COMPARISON_FILES = (
    "measures.csv", "courses.csv", "comparison.png", "comparison.pdf", "comparison-courses.png",
    "comparison-courses.pdf",
)  # fmt: skip
"""What :func:`write_comparison` writes into its folder."""


def write_comparison(
    paths: Sequence[str | Path], parameter: str, folder: str | Path, *, n_boot: int = BOOTSTRAP, seed: int = 0
) -> list[Path]:
    """Compare the networks of ``paths`` and write :data:`COMPARISON_FILES` into ``folder``, each atomically."""
    from dynvision.viz.figures import plot_comparison, plot_comparison_courses, save_figure
    from dynvision.viz.files import atomic_path

    if n_boot < 10:
        raise ValueError(f"n_boot must be >= 10 for a 95 % interval, got {n_boot}")
    networks = read_networks(paths, parameter)
    measures = compare_networks(networks, parameter, n_boot=n_boot, seed=seed)
    bands = course_bands(networks, n_boot=n_boot, seed=seed)
    classes = {str(network.variant.get("n_classes")) for network in networks}
    chance = 1 / float(classes.pop()) if len(classes) == 1 and "None" not in classes else None
    folder = Path(folder)
    written = []
    for name, table in (("measures.csv", measures), ("courses.csv", bands)):
        with atomic_path(folder / name) as temporary:
            table.to_csv(temporary, index=False)
        written.append(folder / name)
    for stem, draw, table in (
        ("comparison", plot_comparison, measures),
        ("comparison-courses", plot_comparison_courses, bands),
    ):
        figure = draw(table, parameter=parameter, chance=chance)
        written += save_figure(figure, folder / f"{stem}.png", folder / f"{stem}.pdf")
    return written
