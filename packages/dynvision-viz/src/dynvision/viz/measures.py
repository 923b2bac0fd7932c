"""Analysis measures of one experiment: latencies, contrast response, temporal summation, repetition, accuracy.

Each measure is a small function of time courses (numpy arrays in ms) so it can be checked on synthetic data
with known answers; the `*_table` helpers apply them per condition to a tidy table averaged over samples.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


def _as_arrays(times: Sequence[float], values: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    times, values = np.asarray(times, dtype=float), np.asarray(values, dtype=float)
    if times.shape != values.shape or times.ndim != 1 or len(times) < 2:
        raise ValueError(f"times and values must be 1D of equal length >= 2, got {times.shape} and {values.shape}")
    return times, values


def _first_crossing(times: np.ndarray, values: np.ndarray, level: float) -> float:
    """Time at which `values` first reaches `level`, linearly interpolated between samples; NaN if never."""
    above = np.flatnonzero(values >= level)
    if len(above) == 0:
        return float("nan")
    index = above[0]
    if index == 0:
        return float(times[0])
    t0, t1, v0, v1 = times[index - 1], times[index], values[index - 1], values[index]
    return float(t0 + (level - v0) / (v1 - v0) * (t1 - t0))


def baseline_of(times: np.ndarray, response: np.ndarray, onset: float) -> float:
    """Mean response before the stimulus onset, or the first value when nothing precedes it."""
    before = response[times < onset]
    return float(before.mean()) if len(before) else float(response[0])


def peak_latency(times: Sequence[float], response: Sequence[float], *, onset: float = 0.0) -> float:
    """Time of the response maximum after `onset`, refined by a parabola through the three samples around it."""
    times, response = _as_arrays(times, response)
    index = int(np.argmax(np.where(times >= onset, response, -np.inf)))
    peak = times[index]
    if 0 < index < len(times) - 1:
        left, centre, right = response[index - 1 : index + 2]
        curvature = left - 2 * centre + right
        if curvature < 0:
            peak += 0.5 * (left - right) / curvature * (times[index + 1] - times[index])
    return float(peak - onset)


def onset_latency(
    times: Sequence[float], response: Sequence[float], *, onset: float = 0.0, fraction: float = 0.5
) -> float:
    """Time after `onset` at which the response first rises `fraction` of the way from baseline to its peak."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    times, response = _as_arrays(times, response)
    baseline = baseline_of(times, response, onset)
    after = times >= onset
    level = baseline + fraction * (response[after].max() - baseline)
    return _first_crossing(times[after], response[after], level) - onset


def integrated_response(times: Sequence[float], response: Sequence[float], *, onset: float = 0.0) -> float:
    """Area above baseline after `onset` (response x ms): the quantity that sums over stimulus duration."""
    times, response = _as_arrays(times, response)
    after = times >= onset
    excess = response[after] - baseline_of(times, response, onset)
    return float(np.sum((excess[1:] + excess[:-1]) / 2 * np.diff(times[after])))


def stimulus_periods(times: Sequence[float], stimulus_on: Sequence[bool]) -> list[tuple[float, float]]:
    """Start and end time (ms) of each run of frames with a stimulus; the end is the last frame's time."""
    times = np.asarray(times, dtype=float)
    on = np.asarray(stimulus_on, dtype=bool)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(int), [0]])))
    return [(float(times[start]), float(times[stop - 1])) for start, stop in zip(edges[::2], edges[1::2], strict=True)]


def repetition_ratio(
    times: Sequence[float], response: Sequence[float], periods: Sequence[tuple[float, float]]
) -> float:
    """Second over first peak response above baseline: < 1 means repetition suppression, ~1 full recovery."""
    if len(periods) < 2:
        raise ValueError(f"repetition needs two stimulus periods, got {len(periods)}")
    times, response = _as_arrays(times, response)
    baseline = baseline_of(times, response, periods[0][0])
    first = response[(times >= periods[0][0]) & (times < periods[1][0])].max() - baseline
    second = response[times >= periods[1][0]].max() - baseline
    return float(second / first)


def time_to_criterion(
    times: Sequence[float], accuracy: Sequence[float], criterion: float, *, onset: float = 0.0
) -> float:
    """Time after `onset` at which accuracy first reaches `criterion` (interpolated); NaN if it never does."""
    times, accuracy = _as_arrays(times, accuracy)
    after = times >= onset
    return _first_crossing(times[after], accuracy[after], criterion) - onset


def naka_rushton(contrast: np.ndarray, rmax: float, c50: float, n: float, baseline: float = 0.0) -> np.ndarray:
    """Contrast response R(c) = baseline + rmax c^n / (c^n + c50^n)."""
    contrast = np.asarray(contrast, dtype=float)
    return baseline + rmax * contrast**n / (contrast**n + c50**n)


@dataclass(frozen=True)
class NakaRushtonFit:
    """Fitted contrast response: saturation `rmax`, semi-saturation contrast `c50`, exponent `n`.

    `saturates` is False when the responses still grow at the highest contrast tested: c50 then lies
    beyond that contrast and is only a lower bound.
    """

    rmax: float
    c50: float
    n: float
    baseline: float
    saturates: bool = True

    def __call__(self, contrast: np.ndarray) -> np.ndarray:
        return naka_rushton(contrast, self.rmax, self.c50, self.n, self.baseline)


def fit_naka_rushton(contrast: Sequence[float], response: Sequence[float]) -> NakaRushtonFit:
    """Least-squares Naka-Rushton fit; the baseline is fitted too when there are at least five contrasts."""
    from scipy.optimize import OptimizeWarning, curve_fit

    contrast, response = _as_arrays(contrast, response)
    if len(np.unique(contrast)) < 3:
        raise ValueError(f"a Naka-Rushton fit needs at least 3 contrasts, got {len(np.unique(contrast))}")
    span = float(response.max() - response.min()) or 1.0
    positive = contrast[contrast > 0]
    start_c50 = float(np.median(positive)) if len(positive) else 0.5
    # c50 far beyond the tested range is not identifiable (rmax and c50 trade off without end): cap it.
    max_c50 = 10 * float(contrast.max())
    if len(np.unique(contrast)) >= 5:
        guess = [span, start_c50, 2.0, float(response.min())]
        bounds = ([0, 1e-6, 0.1, -np.inf], [np.inf, max_c50, 20, np.inf])
    else:
        guess, bounds = [span, start_c50, 2.0], ([0, 1e-6, 0.1], [np.inf, max_c50, 20])
    with warnings.catch_warnings():  # the covariance is not used; its estimate failing is no reason to warn
        warnings.simplefilter("ignore", OptimizeWarning)
        params, _ = curve_fit(naka_rushton, contrast, response, p0=guess, bounds=bounds, maxfev=20_000)
    rmax, c50, n, *rest = params
    baseline = float(rest[0]) if rest else 0.0
    return NakaRushtonFit(float(rmax), float(c50), float(n), baseline, saturates=bool(c50 < contrast.max()))


@dataclass(frozen=True)
class PowerLawFit:
    """Fitted y = scale x^exponent; an exponent below 1 means sub-linear summation."""

    scale: float
    exponent: float

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.scale * np.asarray(x, dtype=float) ** self.exponent


def fit_power_law(x: Sequence[float], y: Sequence[float]) -> PowerLawFit:
    """Power law fitted as a line in log-log coordinates (needs positive x and y)."""
    x, y = _as_arrays(x, y)
    keep = (x > 0) & (y > 0)
    if keep.sum() < 2:
        raise ValueError("a power-law fit needs at least 2 points with positive x and y")
    exponent, intercept = np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)
    return PowerLawFit(float(np.exp(intercept)), float(exponent))


# --- per condition on tidy tables -------------------------------------------------------------------------------


def mean_time_course(table: pd.DataFrame, by: Sequence[str], value: str = "response_mean") -> pd.DataFrame:
    """Average a tidy table over samples: one row per condition and time step."""
    columns = {value: "mean"}
    if "stimulus_on" in table.columns:
        columns["stimulus_on"] = "mean"
    course = table.groupby([*by, "time_ms"], dropna=False).agg(columns).reset_index()
    if "stimulus_on" in course.columns:
        course["stimulus_on"] = course["stimulus_on"] >= 0.5
    return course


def per_condition(
    table: pd.DataFrame,
    by: Sequence[str],
    measure: Callable[[np.ndarray, np.ndarray, list[tuple[float, float]]], dict[str, float]],
    *,
    value: str = "response_mean",
) -> pd.DataFrame:
    """Apply `measure(times, response, stimulus_periods)` to each condition's mean time course."""
    import pandas as pd

    missing = [name for name in [*by, "time_ms", value] if name not in table.columns]
    if missing:
        raise ValueError(f"table lacks columns {', '.join(missing)} (has: {', '.join(table.columns)})")
    course = mean_time_course(table, by, value)
    rows = []
    for key, group in course.groupby(list(by), dropna=False) if by else [((), course)]:
        group = group.sort_values("time_ms")
        times, response = group["time_ms"].to_numpy(), group[value].to_numpy()
        on = group["stimulus_on"].to_numpy() if "stimulus_on" in group else np.ones(len(group), dtype=bool)
        periods = stimulus_periods(times, on) or [(float(times[0]), float(times[-1]))]
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, key, strict=True)), **measure(times, response, periods)})
    return pd.DataFrame(rows)


def latency_table(table: pd.DataFrame, by: Sequence[str] = ("area",), *, fraction: float = 0.5) -> pd.DataFrame:
    """Onset and peak latency (ms after the first stimulus onset) and peak response per condition."""

    def measure(times: np.ndarray, response: np.ndarray, periods: list[tuple[float, float]]) -> dict[str, float]:
        onset = periods[0][0]
        return {
            "onset_latency": onset_latency(times, response, onset=onset, fraction=fraction),
            "peak_latency": peak_latency(times, response, onset=onset),
            "peak_response": float(response[times >= onset].max() - baseline_of(times, response, onset)),
            "integrated_response": integrated_response(times, response, onset=onset),
        }

    return per_condition(table, by, measure)


def repetition_table(table: pd.DataFrame, by: Sequence[str] = ("area",)) -> pd.DataFrame:
    """Second/first peak ratio per condition (conditions with a single stimulus period get NaN)."""

    def measure(times: np.ndarray, response: np.ndarray, periods: list[tuple[float, float]]) -> dict[str, float]:
        ratio = repetition_ratio(times, response, periods) if len(periods) >= 2 else float("nan")
        return {"repetition_ratio": ratio}

    return per_condition(table, by, measure)


def accuracy_over_time(table: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Accuracy and mean confidences per condition and time step.

    Rows repeated per area carry the same guess, so they leave these means unchanged.
    """
    columns = [name for name in ("correct", "guess_confidence", "first_label_confidence") if name in table.columns]
    summary = table.groupby([*by, "time_ms"], dropna=False)[columns].mean().reset_index()
    return summary.rename(columns={"correct": "accuracy"})


def accuracy_vs_parameter(
    table: pd.DataFrame,
    parameter: str,
    by: Sequence[str] = (),
    *,
    time_window: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Accuracy per value of `parameter` (e.g. a noise level), optionally only within a time window in ms.

    Group `by` a recurrence column (e.g. `rctype`) to compare models with and without recurrence.
    """
    if parameter not in table.columns:
        raise ValueError(f"table lacks the parameter column {parameter!r} (has: {', '.join(table.columns)})")
    if time_window is not None:
        table = table[(table["time_ms"] >= time_window[0]) & (table["time_ms"] <= time_window[1])]
    summary = table.groupby([*by, parameter], dropna=False)["correct"].agg(["mean", "sem"]).reset_index()
    return summary.rename(columns={"mean": "accuracy", "sem": "accuracy_sem"})


def criterion_table(table: pd.DataFrame, by: Sequence[str] = (), *, criterion: float = 0.5) -> pd.DataFrame:
    """Time (ms after the first stimulus onset) at which each condition's accuracy reaches `criterion`."""

    def measure(times: np.ndarray, accuracy: np.ndarray, periods: list[tuple[float, float]]) -> dict[str, float]:
        return {"time_to_criterion": time_to_criterion(times, accuracy, criterion, onset=periods[0][0])}

    return per_condition(table, by, measure, value="correct")
