"""The temporal phenomena of a model's experiments, measured from the workflow's tables alone.

Reads the tidy table (``data.csv``) of each experiment's figure folder under ``--figures`` (what
``make experiment EXP=...`` writes from the test outputs and responses) and prints, where that
experiment ran:

- contrast: accuracy at the end of the stimulus per contrast, time to criterion (0.5), each area's half-rise
  latency per contrast and a Naka-Rushton fit of each area's peak response (c50, n, saturating or not);
- duration: each area's integrated response per stimulus duration and the power-law exponent;
- interval: each area's repetition ratio (second response over first, against the single-presentation
  control) per interval;
- noise: accuracy at the end of the stimulus per ssnr;
- every experiment: whether the activity settled after the stimulus (the test's blank-decay flag) and,
  for the longest trial, each area's response at its end over its peak.

Usage: python bench/phenomena.py [--figures reports/figures] [--model DyRCNNx4]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from dynvision.viz.measures import (
    criterion_table,
    fit_naka_rushton,
    fit_power_law,
    latency_table,
    repetition_table,
)

PARAMETERS = {"contrast": "contrast", "duration": "stimms", "interval": "intervalms", "noise": "ssnr"}


def end_of_stimulus_accuracy(table: pd.DataFrame, parameter: str) -> pd.Series:
    """Accuracy at the last frame with a stimulus, per level of ``parameter``."""
    shown = table[table["stimulus_on"].astype(bool)]
    last = shown.groupby(parameter)["time_ms"].transform("max")
    return shown[shown["time_ms"] == last].groupby(parameter)["correct"].mean()


def report_contrast(table: pd.DataFrame) -> None:
    accuracy = end_of_stimulus_accuracy(table, "contrast")
    print("accuracy at the end of the stimulus: " + "  ".join(f"c={c:g}: {a:.3f}" for c, a in accuracy.items()))
    print(f"  monotone in contrast: {bool(np.all(np.diff(accuracy.to_numpy()) >= 0))}")
    criterion = criterion_table(table.drop_duplicates(["sample_index", "time_ms", "contrast"]), ["contrast"])
    times = "  ".join(f"c={r.contrast:g}: {r.time_to_criterion:.1f}" for r in criterion.itertuples())
    print(f"time to criterion 0.5 (ms): {times}")
    latency = latency_table(table, ["area", "contrast"])
    for area, rows in latency.groupby("area", sort=False):
        values = "  ".join(f"c={r.contrast:g}: {r.onset_latency:.1f}" for r in rows.itertuples())
        print(f"  {area} half-rise latency (ms): {values}")
        rows = rows.sort_values("contrast")
        try:
            fit = fit_naka_rushton(rows["contrast"], rows["peak_response"])
            print(f"  {area} Naka-Rushton: c50 {fit.c50:.3g}  n {fit.n:.3g}  saturates {fit.saturates}")
        except ValueError as error:
            print(f"  {area} Naka-Rushton: {error}")


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


def report_noise(table: pd.DataFrame) -> None:
    accuracy = end_of_stimulus_accuracy(table, "ssnr")
    print("accuracy at the end of the stimulus: " + "  ".join(f"ssnr={s:g}: {a:.3f}" for s, a in accuracy.items()))


def report_settling(table: pd.DataFrame) -> None:
    """The test's blank-decay flag, and each area's mean response at the end of the trial over its peak."""
    if "settled" in table:
        print(f"settled after the stimulus (blank-decay test): {sorted(set(table['settled'].astype(bool)))}")
    course = table.groupby(["area", "time_ms"], sort=False)["response_mean"].mean()
    ends = {area: float(c.iloc[-1] / c.max()) for area, c in course.groupby(level=0, sort=False)}
    print("response at the end of the trial / peak: " + "  ".join(f"{a} {v:.3f}" for a, v in ends.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=Path, default=Path("reports/figures"))
    parser.add_argument("--model", default="", help="only figure folders whose name contains this")
    options = parser.parse_args()
    reports = {"contrast": report_contrast, "duration": report_duration, "interval": report_interval}
    reports["noise"] = report_noise
    for experiment, report in reports.items():
        for data in sorted((options.figures / experiment).glob(f"*{options.model}*/data.csv")):
            print(f"\n== {experiment}: {data.parent.name}")
            table = pd.read_csv(data)
            report(table)
            report_settling(table)


if __name__ == "__main__":
    main()
