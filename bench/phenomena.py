"""The temporal phenomena of a model's experiments, measured from the workflow's tables alone.

Reads the tidy table (``data.csv``) of each experiment's figure folder under ``--figures`` (what
``make experiment EXP=...`` writes from the test outputs and responses) and prints, where that
experiment ran:

- contrast: accuracy at the end of the stimulus per contrast, time to criterion (0.5), each area's half-rise
  latency per contrast and a Naka-Rushton fit of each area's peak response (c50, n, saturating or not);
- duration: each area's integrated response per stimulus duration and the power-law exponent;
- interval: each area's repetition ratio (second response over first, against the single-presentation
  control) per interval;
- the noise, blur, noise-adaptation and split experiments: accuracy at the end of the stimulus per level;
- response, responseffonly, stability: accuracy at the end of the stimulus and its lowest value while the
  stimulus is shown, each area's peak and its response 60 steps after the stimulus ends over that peak, per
  status and stimulus duration;
- every experiment: whether the activity settled after the stimulus (the test's blank-decay flag) and,
  for the longest trial, each area's response at its end over its peak.

Then the checks of the default model's phenomena, each True or False: accuracy >= 0.9 at full contrast and
monotone in contrast, later time to criterion and last-area latency at the lowest contrast, a finite c50
(inside the contrasts tested), repetition suppressed at the shortest interval, recovering at the longest and
rising with the interval (throughout, and from its deepest point on), activity decayed 60 steps after a brief
stimulus, and accuracy kept (>= 0.5) while the longest stimulus stays on.

Usage: python bench/phenomena.py [--figures reports/figures] [--model DyRCNNx4]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from dynvision.viz.measures import (
    criterion_table,
    end_accuracy_table,
    fit_naka_rushton,
    fit_power_law,
    latency_table,
    repetition_table,
)

CHECKS: dict[str, bool] = {}
"""What the checks found, by name, filled in by the reports."""
DECAY_STEPS = 60
SETTLE_MS = 20
"""Time after a stimulus onset from which a trained model's read-out has responded (IT first responds at 8 ms)."""
"""Steps after the end of a stimulus at which the activity must have decayed (below 0.1 of its peak)."""


def end_of_stimulus_accuracy(table: pd.DataFrame, parameter: str) -> pd.Series:
    """Accuracy at the last frame with a stimulus, per level of ``parameter``."""
    return end_accuracy_table(table, [parameter]).set_index(parameter)["end_accuracy"]


def report_contrast(table: pd.DataFrame) -> None:
    accuracy = end_of_stimulus_accuracy(table, "contrast")
    print("accuracy at the end of the stimulus: " + "  ".join(f"c={c:g}: {a:.3f}" for c, a in accuracy.items()))
    CHECKS["accuracy >= 0.9 at full contrast"] = bool(accuracy.iloc[-1] >= 0.9)
    CHECKS["accuracy monotone in contrast"] = bool(np.all(np.diff(accuracy.to_numpy()) >= 0))
    criterion = criterion_table(table.drop_duplicates(["sample_index", "time_ms", "contrast"]), ["contrast"])
    times = "  ".join(f"c={r.contrast:g}: {r.time_to_criterion:.1f}" for r in criterion.itertuples())
    print(f"time to criterion 0.5 (ms): {times}")
    reached = criterion.sort_values("contrast")["time_to_criterion"].to_numpy()
    CHECKS["later time to criterion at the lowest contrast"] = bool(reached[0] > reached[-1])
    latency = latency_table(table, ["area", "contrast"])
    fits = {}
    for area, rows in latency.groupby("area", sort=False):
        values = "  ".join(f"c={r.contrast:g}: {r.onset_latency:.1f}" for r in rows.itertuples())
        print(f"  {area} half-rise latency (ms): {values}")
        rows = rows.sort_values("contrast")
        try:
            fits[area] = fit = fit_naka_rushton(rows["contrast"], rows["peak_response"])
            print(f"  {area} Naka-Rushton: c50 {fit.c50:.3g}  n {fit.n:.3g}  saturates {fit.saturates}")
        except ValueError as error:
            print(f"  {area} Naka-Rushton: {error}")
    last_area = last_of(latency)
    last = latency[latency["area"] == last_area].sort_values("contrast")["onset_latency"].to_numpy()
    CHECKS[f"later latency of the last area ({last_area}) at the lowest contrast"] = bool(last[0] > last[-1])
    fit, contrasts = fits.get(last_area), table["contrast"]
    CHECKS[f"finite c50 of {last_area} (inside the contrasts tested)"] = bool(
        fit is not None and contrasts.min() <= fit.c50 <= contrasts.max()
    )


def last_of(measures: pd.DataFrame) -> str:
    """The last area of the chain: the one that responds latest (median half-rise latency over conditions)."""
    return str(measures.groupby("area")["onset_latency"].median().idxmax())


def report_duration(table: pd.DataFrame) -> None:
    latency = latency_table(table, ["area", "stimms"])
    for area, rows in latency.groupby("area", sort=False):
        rows = rows.sort_values("stimms")
        values = "  ".join(f"{r.stimms:g} ms: {r.integrated_response:.3g}" for r in rows.itertuples())
        fit = fit_power_law(rows["stimms"], rows["integrated_response"])
        print(f"  {area} integrated response: {values}  exponent {fit.exponent:.2f}")


def report_interval(table: pd.DataFrame) -> None:
    ratios = repetition_table(table, ["area", "intervalms"])
    for area, rows in ratios.groupby("area", sort=False):
        rows = rows.sort_values("intervalms")
        values = "  ".join(f"{r.intervalms:g} ms: {r.repetition_ratio:.3f}" for r in rows.itertuples())
        control = bool(rows["repetition_control"].all())
        print(f"  {area} repetition ratio (control {control}): {values}")
    last_area = ratios.groupby("area")["response_delay_ms"].max().idxmax()
    last = ratios[ratios["area"] == last_area].sort_values("intervalms")["repetition_ratio"].to_numpy()
    CHECKS[f"{last_area} suppressed at the shortest interval (ratio < 1)"] = bool(last[0] < 1)
    CHECKS[f"{last_area} recovering: ratio at the longest interval above the shortest"] = bool(last[-1] > last[0])
    CHECKS[f"{last_area} ratio rising with the interval"] = bool(np.all(np.diff(last) >= 0))
    if np.isnan(last).all():  # e.g. a first response that never ends (an unstable model): no ratio to rank
        CHECKS[f"{last_area} ratio rising with the interval from its deepest on"] = False
        return
    deepest = int(np.nanargmin(last))
    intervals = ratios[ratios["area"] == last_area].sort_values("intervalms")["intervalms"].to_numpy()
    CHECKS[f"{last_area} ratio rising with the interval from its deepest ({intervals[deepest]:g} ms) on"] = bool(
        np.all(np.diff(last[deepest:]) >= 0)
    )


def report_accuracy(parameter: str) -> Callable[[pd.DataFrame], None]:
    """A report of the accuracy at the end of the stimulus per level of ``parameter`` (and of adaptms)."""

    def report(table: pd.DataFrame) -> None:
        swept = "adaptms" in table and table["adaptms"].nunique() > 1
        for adaptms, rows in table.groupby("adaptms") if swept else [(None, table)]:
            accuracy = end_of_stimulus_accuracy(rows, parameter)
            levels = "  ".join(f"{parameter}={level}: {value:.3f}" for level, value in accuracy.items())
            print(f"{f'adaptms={adaptms:g}: ' if swept else ''}accuracy at the end of the stimulus: {levels}")

    return report


def lowest_accuracy_while_shown(trial: pd.DataFrame) -> float:
    """The lowest accuracy over the frames with the stimulus on, from SETTLE_MS after its onset (when the read-out
    has had time to respond)."""
    shown = trial[trial["stimulus_on"].astype(bool)]
    course = shown.groupby("time_ms")["correct"].mean()
    return float(course[course.index >= course.index.min() + SETTLE_MS].min())


def decay_after(trial: pd.DataFrame, steps: int = DECAY_STEPS) -> dict[str, tuple[float, float]]:
    """Each area's peak mean response and its response ``steps`` after the stimulus ends over that peak (NaN
    if the trial ends sooner)."""
    dt = float(np.diff(np.unique(trial["time_ms"]))[0])
    at = trial.loc[trial["stimulus_on"].astype(bool), "time_ms"].max() + steps * dt
    course = trial.groupby(["area", "time_ms"], sort=False)["response_mean"].mean()
    decay = {}
    for area, values in course.groupby(level=0, sort=False):
        values = values.droplevel(0)
        after = values[values.index >= at]
        decay[area] = (float(values.max()), float(after.iloc[0] / values.max()) if len(after) else np.nan)
    return decay


def report_response(table: pd.DataFrame) -> None:
    """Per status and stimulus duration: accuracy at the end of the stimulus, each area's peak and its response
    DECAY_STEPS after the stimulus over that peak; the check of the trained model's briefest stimulus."""
    table = table.assign(status=table["status"]) if "status" in table else table.assign(status="trained")
    briefest = table["stimms"].min()
    longest = table["stimms"].max()
    for (status, stimms), trial in table.groupby(["status", "stimms"], sort=False):
        accuracy = end_of_stimulus_accuracy(trial, "stimms").iloc[0]
        lowest = lowest_accuracy_while_shown(trial)
        decay = decay_after(trial)
        text = "  ".join(f"{a} {peak:.3g}, {ratio:.3f}" for a, (peak, ratio) in decay.items())
        print(
            f"  {status}, {stimms:g} ms: accuracy at its end {accuracy:.3f}, lowest while shown (from "
            f"{SETTLE_MS} ms on) {lowest:.3f}; peak, after {DECAY_STEPS} steps / peak: {text}"
        )
        if status == "trained" and stimms == longest and stimms > SETTLE_MS:
            CHECKS[f"accuracy stays >= 0.5 while a {stimms:g} ms stimulus is shown (from {SETTLE_MS} ms on)"] = (
                lowest >= 0.5
            )
        ratios = [ratio for _, ratio in decay.values()]
        if status == "trained" and stimms == briefest and not np.isnan(ratios).any():
            CHECKS[f"activity decayed {DECAY_STEPS} steps after a {stimms:g} ms stimulus (every area < 0.1)"] = (
                max(ratios) < 0.1
            )


def report_settling(table: pd.DataFrame) -> None:
    """The test's blank-decay flag, and each area's mean response at the end of the trial over its peak."""
    if "settled" in table:
        print(f"settled after the stimulus (blank-decay test): {sorted(set(table['settled'].astype(bool)))}")
    course = table.groupby(["area", "time_ms"], sort=False)["response_mean"].mean()
    ends = {area: float(c.iloc[-1] / c.max()) for area, c in course.groupby(level=0, sort=False)}
    print("response at the end of the trial / peak: " + "  ".join(f"{a} {v:.3f}" for a, v in ends.items()))


REPORTS: dict[str, Callable[[pd.DataFrame], None]] = {
    "contrast": report_contrast,
    "duration": report_duration,
    "interval": report_interval,
    **{name: report_accuracy("ssnr") for name in ("noise", "uniformnoise", "saltpeppernoise", "poissonnoise")},
    **{name: report_accuracy("blurpx") for name in ("gaussianblurnoise", "motionblurnoise")},
    "noiseadaptation": report_accuracy("adapter"),
    "spatialsplit": report_accuracy("topdown"),
    **{name: report_response for name in ("response", "responseffonly", "stability")},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=Path, default=Path("reports/figures"))
    parser.add_argument("--model", default="", help="only figure folders whose name contains this")
    options = parser.parse_args()
    for experiment, report in REPORTS.items():
        for data in sorted((options.figures / experiment).glob(f"*{options.model}*/data.csv")):
            print(f"\n== {experiment}: {data.parent.name}")
            table = pd.read_csv(data)
            report(table)
            report_settling(table)
    if CHECKS:
        print("\n== checks (of the last folder of each experiment)")
        for name, holds in CHECKS.items():
            print(f"{holds!s:5}  {name}")


if __name__ == "__main__":
    main()
