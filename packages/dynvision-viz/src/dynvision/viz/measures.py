"""Analysis measures of one experiment: latencies, contrast response, temporal summation, repetition, accuracy.

Each measure is a small function of time courses (numpy arrays in ms) so it can be checked on synthetic data
with known answers; the `*_table` helpers apply them per condition to a tidy table averaged over samples.

Response windows: an area first receives drive `response_delay_ms` after a frame is shown (its first response
step x dt, a column of the tidy table; 0 where the table lacks it). The response to a stimulus period
[start, end] is looked for in [start + delay, end + delay + settle), where the settling margin runs to the next
period's shifted start (the window is [start + delay, next start + delay)), and for the last period to the end
of the trial. The baseline is the mean response before the window (its first value when nothing precedes it).
Latencies count from the stimulus onset, so they include the delay.

Degenerate responses give NaN with a reason (column `reason`, "ok" otherwise), never an error:

- "empty_window": no sample lies in the window (the delay pushes it past the trial): every value is NaN.
- "flat": nothing in the window departs from baseline by more than FLAT_TOLERANCE of the largest magnitude
  there (of the window's values and the baseline): latencies are NaN, peak and integrated response are as
  measured (about 0).
- "no_response": the peak above baseline is not positive or below MIN_PEAK_FRACTION of the trial's range
  (max - min): latencies are NaN, peak and integrated response as measured.
- A peak at the window's last sample is still rising when the window closes: its latency is a lower bound,
  kept but flagged by `peak_at_edge`.

Repetition ratios are NaN with reason "single_period" when the trial has fewer than two stimulus periods
(interval 0 merges the presentations), "first_<reason>" when the first response is degenerate as above (a
first peak near zero would give an unbounded ratio), and "second_empty_window" when the second window is empty.
A time to criterion that is never reached is NaN with `reached` False.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from dynvision.viz.contract import RESPONSE_DELAY

if TYPE_CHECKING:
    import pandas as pd

OK = "ok"

FLAT_TOLERANCE = 1e-3
"""Relative size below which a departure from baseline is no change (about the resolution of the float16
responses a test stores)."""

MIN_PEAK_FRACTION = 0.05
"""Smallest peak above baseline, as a fraction of the trial's range, that counts as a response; it keeps a
repetition ratio below about 1 / MIN_PEAK_FRACTION = 20 instead of dividing by a first peak near zero."""

Window = tuple[float, float]

CONTROL = "repeat"
"""The column of a tidy table whose false rows are single-presentation controls (the second presentation blank)."""


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
    """Mean response before `onset`, or the first value when nothing precedes it."""
    before = response[times < onset]
    return float(before.mean()) if len(before) else float(response[0])


def response_windows(periods: Sequence[tuple[float, float]], delay: float = 0.0) -> list[Window]:
    """Window [start + delay, next start + delay) of the response to each stimulus period; the last one is open."""
    starts = [start + delay for start, _ in periods]
    return list(zip(starts, [*starts[1:], math.inf], strict=True))


def _inside(times: np.ndarray, window: Window) -> np.ndarray:
    """Indices of the samples in `window`."""
    return np.flatnonzero((times >= window[0]) & (times < window[1]))


def response_check(times: Sequence[float], response: Sequence[float], window: Window) -> str:
    """Why the response in `window` has no latency ("empty_window", "flat", "no_response"), or "ok"."""
    times, response = _as_arrays(times, response)
    inside = _inside(times, window)
    if len(inside) == 0:
        return "empty_window"
    baseline = baseline_of(times, response, window[0])
    excess = response[inside] - baseline
    if np.abs(excess).max() <= FLAT_TOLERANCE * max(np.abs(response[inside]).max(), abs(baseline)):
        return "flat"
    if excess.max() <= 0 or excess.max() < MIN_PEAK_FRACTION * np.ptp(response):
        return "no_response"
    return OK


def peak_response(times: Sequence[float], response: Sequence[float], *, window: Window) -> float:
    """Largest response above baseline in `window`; NaN if the window holds no sample."""
    times, response = _as_arrays(times, response)
    inside = _inside(times, window)
    if len(inside) == 0:
        return float("nan")
    return float(response[inside].max() - baseline_of(times, response, window[0]))


def peak_at_edge(times: Sequence[float], response: Sequence[float], window: Window) -> bool:
    """Whether the response maximum in `window` is its last sample (still rising when the window closes)."""
    times, response = _as_arrays(times, response)
    inside = _inside(times, window)
    return bool(len(inside) > 0 and inside[np.argmax(response[inside])] == inside[-1])


def peak_latency(
    times: Sequence[float], response: Sequence[float], *, onset: float = 0.0, window: Window | None = None
) -> float:
    """Time after `onset` of the response maximum in `window` (default: from `onset` on), refined by a parabola
    through the three samples around it; NaN for a degenerate response (see the module docstring)."""
    times, response = _as_arrays(times, response)
    window = window or (onset, math.inf)
    if response_check(times, response, window) != OK:
        return float("nan")
    inside = _inside(times, window)
    index = inside[np.argmax(response[inside])]
    peak = times[index]
    if inside[0] < index < inside[-1]:
        left, centre, right = response[index - 1 : index + 2]
        curvature = left - 2 * centre + right
        if curvature < 0:
            peak += 0.5 * (left - right) / curvature * (times[index + 1] - times[index])
    return float(peak - onset)


def onset_latency(
    times: Sequence[float],
    response: Sequence[float],
    *,
    onset: float = 0.0,
    window: Window | None = None,
    fraction: float = 0.5,
) -> float:
    """Time after `onset` at which the response first rises `fraction` of the way from baseline to its peak in
    `window` (default: from `onset` on), interpolated; NaN for a degenerate response (see the module docstring)."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    times, response = _as_arrays(times, response)
    window = window or (onset, math.inf)
    if response_check(times, response, window) != OK:
        return float("nan")
    inside = _inside(times, window)
    baseline = baseline_of(times, response, window[0])
    level = baseline + fraction * (response[inside].max() - baseline)
    return _first_crossing(times[inside], response[inside], level) - onset  # never before the drive arrives


def integrated_response(
    times: Sequence[float], response: Sequence[float], *, onset: float = 0.0, window: Window | None = None
) -> float:
    """Area above baseline in `window` (default: from `onset` on), in response x ms: the quantity that sums over
    stimulus duration; NaN if the window holds no sample."""
    times, response = _as_arrays(times, response)
    window = window or (onset, math.inf)
    inside = _inside(times, window)
    if len(inside) == 0:
        return float("nan")
    excess = response[inside] - baseline_of(times, response, window[0])
    return float(np.sum((excess[1:] + excess[:-1]) / 2 * np.diff(times[inside])))


def stimulus_periods(times: Sequence[float], stimulus_on: Sequence[bool]) -> list[tuple[float, float]]:
    """Start and end time (ms) of each run of frames with a stimulus; the end is the last frame's time."""
    times = np.asarray(times, dtype=float)
    on = np.asarray(stimulus_on, dtype=bool)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(int), [0]])))
    return [(float(times[start]), float(times[stop - 1])) for start, stop in zip(edges[::2], edges[1::2], strict=True)]


def repetition_parts(
    times: np.ndarray,
    response: np.ndarray,
    periods: Sequence[tuple[float, float]],
    control: np.ndarray | None,
    delay: float,
) -> tuple[float, float, float, str]:
    """Ratio, first peak, second peak and reason of a repetition measure (see `repetition_ratio`)."""
    nan = float("nan")
    if len(periods) < 2:
        return nan, nan, nan, "single_period"
    first_window, second_window = response_windows(periods, delay)[:2]
    check = response_check(times, response, first_window)
    if check != OK:
        return nan, nan, nan, f"first_{check}"
    first = peak_response(times, response, window=first_window)
    inside = _inside(times, second_window)
    if len(inside) == 0:
        return nan, first, nan, "second_empty_window"
    if control is None:
        second = response[inside].max() - baseline_of(times, response, first_window[0])
    else:
        second = (response - control)[inside].max()
    second = max(float(second), 0.0)
    return second / first, first, second, OK


def repetition_ratio(
    times: Sequence[float],
    response: Sequence[float],
    periods: Sequence[tuple[float, float]],
    *,
    control: Sequence[float] | None = None,
    delay: float = 0.0,
) -> float:
    """Second over first response peak: < 1 means repetition suppression, ~1 full recovery.

    The first peak is taken above baseline in the first period's delay-shifted window. With `control` (the same
    trial with the second presentation blank, on the same times) the second response is the evoked one,
    response - control, whose peak above zero is taken in the second period's window, so the first response's
    tail is not counted twice; without it, the second peak is taken above the first one's baseline. NaN for a
    degenerate first response (see the module docstring).
    """
    if len(periods) < 2:
        raise ValueError(f"repetition needs two stimulus periods, got {len(periods)}")
    times, response = _as_arrays(times, response)
    if control is not None:
        control = np.asarray(control, dtype=float)
        if control.shape != response.shape:
            raise ValueError(f"control must have the response's shape {response.shape}, got {control.shape}")
    return repetition_parts(times, response, periods, control, delay)[0]


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


def naka_rushton_jacobian(
    contrast: np.ndarray, rmax: float, c50: float, n: float, baseline: float | None = None
) -> np.ndarray:
    """Derivatives of :func:`naka_rushton` by ``rmax``, ``c50``, ``n`` (and ``baseline`` where it is fitted, i.e.
    given): one column each, one row per contrast (for the fit: numerical derivatives made it 3-4x slower)."""
    contrast = np.asarray(contrast, dtype=float)
    x, k = contrast**n, c50**n
    total = x + k
    log_ratio = np.log(np.where(contrast > 0, contrast, 1.0)) - np.log(c50)  # where c = 0, x = 0 cancels it
    columns = [x / total, -rmax * x * n * k / (c50 * total**2), rmax * x * k * log_ratio / total**2]
    return np.stack(columns if baseline is None else [*columns, np.ones_like(contrast)], axis=1)


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


def fit_naka_rushton(
    contrast: Sequence[float], response: Sequence[float], start: NakaRushtonFit | None = None
) -> NakaRushtonFit:
    """Least-squares Naka-Rushton fit; the baseline is fitted too when there are at least five contrasts.

    ``start``: a fit to start from (a bootstrap replicate's fit starts from the fit of the data), else a guess.
    """
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
    if start is not None:
        guess = [start.rmax, min(start.c50, max_c50), min(max(start.n, 0.1), 20), start.baseline][: len(guess)]

    with warnings.catch_warnings():  # the covariance is not used; its estimate failing is no reason to warn
        warnings.simplefilter("ignore", OptimizeWarning)
        params, _ = curve_fit(
            naka_rushton, contrast, response, p0=guess, bounds=bounds, jac=naka_rushton_jacobian, maxfev=20_000
        )
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


class Course(NamedTuple):
    """One condition's mean time course, its stimulus periods and its area's response delay (ms)."""

    times: np.ndarray
    values: np.ndarray
    periods: list[tuple[float, float]]
    delay: float = 0.0

    def windows(self) -> list[Window]:
        return response_windows(self.periods, self.delay)


def mean_time_course(table: pd.DataFrame, by: Sequence[str], value: str = "response_mean") -> pd.DataFrame:
    """Average a tidy table over samples: one row per condition and time step."""
    columns = {value: "mean"}
    for name in ("stimulus_on", RESPONSE_DELAY):
        if name in table.columns:
            columns[name] = "mean"
    course = table.groupby([*by, "time_ms"], dropna=False).agg(columns).reset_index()
    if "stimulus_on" in course.columns:
        course["stimulus_on"] = course["stimulus_on"] >= 0.5
    return course


def condition_courses(
    table: pd.DataFrame, by: Sequence[str], value: str = "response_mean"
) -> Iterator[tuple[dict[str, Any], Course]]:
    """Each condition's values of `by` and its mean time course; the delay is 0 where the table has none."""
    missing = [name for name in [*by, "time_ms", value] if name not in table.columns]
    if missing:
        raise ValueError(f"table lacks columns {', '.join(missing)} (has: {', '.join(table.columns)})")
    course = mean_time_course(table, by, value)
    for key, group in course.groupby(list(by), dropna=False) if by else [((), course)]:
        group = group.sort_values("time_ms")
        times, values = group["time_ms"].to_numpy(dtype=float), group[value].to_numpy(dtype=float)
        on = group["stimulus_on"].to_numpy() if "stimulus_on" in group else np.ones(len(group), dtype=bool)
        periods = stimulus_periods(times, on) or [(float(times[0]), float(times[-1]))]
        delay = float(group[RESPONSE_DELAY].mean()) if RESPONSE_DELAY in group else 0.0
        key = key if isinstance(key, tuple) else (key,)
        yield dict(zip(by, key, strict=True)), Course(times, values, periods, 0.0 if math.isnan(delay) else delay)


def per_condition(
    table: pd.DataFrame,
    by: Sequence[str],
    measure: Callable[[Course], dict[str, Any]],
    *,
    value: str = "response_mean",
) -> pd.DataFrame:
    """Apply `measure(course)` to each condition's mean time course: one row per condition."""
    import pandas as pd

    return pd.DataFrame([{**values, **measure(course)} for values, course in condition_courses(table, by, value)])


def first_response(course: Course, *, fraction: float = 0.5) -> dict[str, Any]:
    """The measures of the response to a course's first stimulus period, in its delay-shifted window.

    Keys: `onset_latency` and `peak_latency` (ms after the stimulus onset), `peak_response` and
    `integrated_response` (above baseline), `peak_at_edge`, `reason` and `response_delay_ms`.
    """
    times, response, onset, window = course.times, course.values, course.periods[0][0], course.windows()[0]
    reason = response_check(times, response, window)
    return {
        "onset_latency": onset_latency(times, response, onset=onset, window=window, fraction=fraction),
        "peak_latency": peak_latency(times, response, onset=onset, window=window),
        "peak_response": peak_response(times, response, window=window),
        "integrated_response": integrated_response(times, response, window=window),
        "peak_at_edge": reason == OK and peak_at_edge(times, response, window),
        "reason": reason,
        RESPONSE_DELAY: course.delay,
    }


def latency_table(table: pd.DataFrame, by: Sequence[str] = ("area",), *, fraction: float = 0.5) -> pd.DataFrame:
    """The response to the first stimulus period per condition (:func:`first_response`): one row per condition."""
    return per_condition(table, by, lambda course: first_response(course, fraction=fraction))


def repeat_flags(column: pd.Series) -> pd.Series:
    """Whether each row shows the second presentation; an empty cell means the default, true."""
    return ~column.astype(str).str.strip().str.lower().isin(["false", "0", "0.0", "no", "off"])


def repetition_table(table: pd.DataFrame, by: Sequence[str] = ("area",), *, control: str = CONTROL) -> pd.DataFrame:
    """Repetition ratio per condition, against its single-presentation control where the table holds one.

    Rows whose `control` column is false are the controls (the second presentation blank): each condition that
    shows both presentations is paired with the control of the same `by` values (same interval, area, ...), and
    the controls get no rows of their own. A condition without a control falls back to the second / first peak
    above baseline, with `repetition_control` False. Columns: `repetition_ratio`, `first_peak`, `second_peak`,
    `repetition_control`, `reason` and `response_delay_ms`.
    """
    import pandas as pd

    by = list(by)
    flags = repeat_flags(table[control]) if control in table.columns else True
    courses = list(condition_courses(table.assign(**{control: flags}), [*by, control]))
    controls = {tuple(values[name] for name in by): course for values, course in courses if not values[control]}
    rows = []
    for values, course in courses:
        if not values[control]:
            continue
        single = controls.get(tuple(values[name] for name in by))
        paired = single is not None and np.array_equal(single.times, course.times)
        ratio, first, second, reason = repetition_parts(
            course.times, course.values, course.periods, single.values if paired else None, course.delay
        )
        rows.append(
            {
                **{name: values[name] for name in by},
                "repetition_ratio": ratio,
                "first_peak": first,
                "second_peak": second,
                "repetition_control": paired,
                "reason": reason,
                RESPONSE_DELAY: course.delay,
            }
        )
    columns = [*by, "repetition_ratio", "first_peak", "second_peak", "repetition_control", "reason", RESPONSE_DELAY]
    return pd.DataFrame(rows, columns=columns)


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


def end_accuracy_table(table: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Accuracy at the last frame with a stimulus (`stimulus_on`; the last frame where the table lacks it) of each
    condition of `by`: the read-out's answer once the whole stimulus has been seen, not counting the frames before
    it has responded."""
    by = list(by)
    shown = table[table["stimulus_on"].astype(bool)] if "stimulus_on" in table else table
    end = shown[shown["time_ms"] == shown.groupby(by)["time_ms"].transform("max")]
    return end.groupby(by)["correct"].mean().rename("end_accuracy").reset_index()


def criterion_table(table: pd.DataFrame, by: Sequence[str] = (), *, criterion: float = 0.5) -> pd.DataFrame:
    """Time (ms after the first stimulus onset) at which each condition's accuracy reaches `criterion`.

    Every condition gets a row: one that never reaches the criterion has `time_to_criterion` NaN and `reached`
    False.
    """

    def measure(course: Course) -> dict[str, Any]:
        value = time_to_criterion(course.times, course.values, criterion, onset=course.periods[0][0])
        return {"time_to_criterion": value, "reached": not math.isnan(value)}

    return per_condition(table, by, measure, value="correct")
