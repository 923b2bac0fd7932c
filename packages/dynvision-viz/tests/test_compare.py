"""A sweep's comparison recovers what synthetic networks were built with, with intervals that hold it, and overlays
the variants in figures labelled by the swept values."""

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dynvision.viz.cli import app
from dynvision.viz.compare import (
    COMPARISON_FILES,
    compare_networks,
    course_bands,
    read_networks,
    variant_label,
)
from dynvision.viz.figures import plot_comparison, plot_comparison_courses

matplotlib.use("Agg")

DT, N_SAMPLES = 2.0, 60
TIMES = np.arange(0, 120, DT)
ONSET, STIM_END = 4.0, 36.0
CONTRASTS = [0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
TAU = {"full": 6.0, "self": 14.0}
"""Each variant's time constant."""


def half_rise(tau: float) -> float:
    """When a leaky rise over the stimulus reaches half of its peak (at the last frame shown), after the onset."""
    peak = 1 - np.exp(-(STIM_END - DT - ONSET) / tau)
    return -tau * np.log(1 - peak / 2)


C50 = {"full": 0.1, "self": 0.3}
CRITERION_TIME = {"full": 10.0, "self": 20.0}
"""When each variant's guesses turn right (ms after the onset)."""


def network_table(rctype: str, seed: str, noise: float = 0.05) -> pd.DataFrame:
    """A tidy experiment table of one network: leaky responses to each contrast, scaled by a Naka-Rushton curve
    (n = 2) of the variant's c50, with per-sample noise; the guesses turn right at the variant's criterion time."""
    rng = np.random.default_rng(int(seed))
    on = (TIMES >= ONSET) & (TIMES < STIM_END)
    rise = np.where(
        TIMES < ONSET,
        0.0,
        np.where(on, 1 - np.exp(-(TIMES - ONSET) / TAU[rctype]), np.nan),
    )
    peak = 1 - np.exp(-(STIM_END - DT - ONSET) / TAU[rctype])
    rise = np.where(TIMES >= STIM_END, peak * np.exp(-(TIMES - STIM_END + DT) / TAU[rctype]), rise)
    frames = []
    for contrast in CONTRASTS:
        amplitude = contrast**2 / (contrast**2 + C50[rctype] ** 2)
        for area, gain in (("V1", 1.0), ("IT", 2.0)):
            responses = gain * amplitude * rise + noise * rng.standard_normal((N_SAMPLES, len(TIMES)))
            correct = (TIMES[None, :] - ONSET >= CRITERION_TIME[rctype]) & (rng.uniform(size=(N_SAMPLES, 1)) < 0.9)
            frames.append(
                pd.DataFrame(
                    {
                        "experiment": "contrast",
                        "model_name": "DyRCNNx2",
                        "seed": seed,
                        "status": "trained",
                        "rctype": rctype,
                        "tsteps": 8,
                        "n_classes": 10,
                        "settled": rctype == "full",  # a result of the test, not a setting: no part of the label
                        "contrast": contrast,
                        "trialms": 120,
                        "sample_index": np.repeat(np.arange(N_SAMPLES), len(TIMES)),
                        "time_ms": np.tile(TIMES, N_SAMPLES),
                        "area": area,
                        "stimulus_on": np.tile(on, N_SAMPLES),
                        "correct": correct.astype(int).ravel(),
                        "response_mean": responses.ravel(),
                        "response_delay_ms": 0.0,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("sweep")
    paths = []
    for rctype in TAU:
        for seed in ("0001", "0002"):
            path = folder / f"{rctype}-{seed}" / "data.csv"
            path.parent.mkdir()
            network_table(rctype, seed).to_csv(path, index=False)
            paths.append(path)
    return paths


@pytest.fixture(scope="module")
def measures(sweep: list[Path]) -> pd.DataFrame:
    return compare_networks(read_networks(sweep, "contrast"), "contrast", n_boot=100)


def test_every_network_level_and_area_has_a_row_and_the_seeds_are_pooled(measures: pd.DataFrame) -> None:
    latency = measures[measures["measure"] == "onset_latency"]
    assert len(latency) == 2 * (2 + 1) * len(CONTRASTS) * 2  # variants x (seeds + pooled) x levels x areas
    assert set(measures["variant"]) == {"full", "self"}
    assert set(measures["seed"]) == {"0001", "0002", "all"}
    pooled = measures[measures["seed"] == "all"]
    assert set(pooled["n_seeds"]) == {2} and set(pooled["n_samples"]) == {2 * N_SAMPLES}
    assert list(measures.columns[:2]) == ["rctype", "variant"]  # the swept key comes first, then its label


def test_the_known_latencies_lie_inside_their_intervals(measures: pd.DataFrame) -> None:
    rows = measures[(measures["measure"] == "onset_latency") & (measures["level"] == 1.0)]
    for row in rows.itertuples():
        expected = half_rise(TAU[row.rctype])
        assert row.ci_low - DT / 2 <= expected <= row.ci_high + DT / 2, row  # sampling at dt blurs by half a step
        assert row.ci_low < row.value < row.ci_high
    full, self_ = (rows[rows["rctype"] == name]["value"].mean() for name in ("full", "self"))
    assert self_ > full + 4


def test_the_known_c50_of_each_variant_is_recovered(measures: pd.DataFrame) -> None:
    c50 = measures[(measures["measure"] == "c50") & (measures["seed"] == "all")].set_index(["rctype", "area"])
    for (rctype, _), row in c50.iterrows():
        assert row["ci_low"] <= C50[rctype] <= row["ci_high"]
        assert row["value"] == pytest.approx(C50[rctype], rel=0.25)
        assert np.isnan(row["level"]) and row["parameter"] == ""


def test_time_to_criterion_and_accuracy_per_variant(measures: pd.DataFrame) -> None:
    rows = measures[(measures["measure"] == "time_to_criterion") & (measures["seed"] == "all")]
    for row in rows.itertuples():
        assert row.value == pytest.approx(CRITERION_TIME[row.rctype], abs=DT)
        assert row.area == ""
    accuracy = measures[measures["measure"] == "end_accuracy"]
    assert accuracy["value"].between(0.8, 1.0).all()


def test_intervals_narrow_with_less_noise(tmp_path: Path) -> None:
    widths = []
    for noise in (0.2, 0.02):
        path = tmp_path / f"{noise}.csv"
        network_table("full", "0001", noise=noise).to_csv(path, index=False)
        table = compare_networks(read_networks([path], "contrast"), "contrast", n_boot=100)
        rows = table[table["measure"] == "peak_response"]
        widths.append((rows["ci_high"] - rows["ci_low"]).mean())
    assert widths[1] < widths[0] / 4


def test_the_same_variant_and_seed_twice_is_refused(sweep: list[Path]) -> None:
    from dynvision.viz.contract import DataContractError

    with pytest.raises(DataContractError, match="the same variant and seed"):
        read_networks([sweep[0], sweep[0]], "contrast")


def test_variant_labels() -> None:
    assert variant_label({"model_name": "AlexNet", "seed": "1"}, ["model_name"]) == "AlexNet"
    assert variant_label({"rctype": "self", "tsteps": 8}, ["rctype"]) == "self"
    assert variant_label({"adapt": "0", "norm": "false"}, ["adapt", "norm"]) == "adapt=0, norm=false"
    assert variant_label({"rctype": "full"}, []) == "all"


def test_the_comparison_figure_overlays_the_variants_with_their_intervals(measures: pd.DataFrame) -> None:
    figure = plot_comparison(measures, parameter="contrast", chance=0.1)
    axes = figure.get_axes()
    assert axes[4].get_title() == "Accuracy" and [line.get_ydata()[0] for line in axes[4].lines[-1:]] == [0.1]
    assert len(axes) == 2 * 2 + 2  # (peak response, latency) x (V1, IT), then accuracy and time to criterion
    assert axes[0].get_title() == "V1" and axes[0].get_xlabel() == "Contrast" and axes[0].get_xscale() == "log"
    assert axes[0].get_ylabel() == "Peak response (a.u.)"
    [legend] = figure.legends
    assert [text.get_text() for text in legend.get_texts()] == ["full", "self", "chance (0.1)"]  # too small to label
    assert legend.get_title().get_text() == f"rctype\n(n = {2 * N_SAMPLES} images, 2 seeds)"
    colours = [container.lines[0].get_color() for container in axes[0].containers]
    assert colours == ["#1b9e77", "#d95f02"]  # the palette of rctype


def test_the_course_figure_shades_each_level_and_draws_bands(sweep: list[Path]) -> None:
    bands = course_bands(read_networks(sweep, "contrast"), n_boot=50)
    assert set(bands["level"]) == {1.0, 0.02} and list(dict.fromkeys(bands["panel"])) == ["V1", "IT", "accuracy"]
    assert (bands["ci_low"] <= bands["value"] + 1e-12).all() and (bands["value"] <= bands["ci_high"] + 1e-12).all()
    figure = plot_comparison_courses(bands, parameter="contrast")
    axes = figure.get_axes()
    assert len(axes) == 2 * 3
    assert axes[0].get_title() == "V1\ncontrast 1" and axes[5].get_title() == "Accuracy\ncontrast 0.02"
    shaded = [patch for patch in axes[0].patches]
    assert len(shaded) == 1 and shaded[0].get_x() == pytest.approx(ONSET - DT / 2)


def test_the_command_writes_every_file(sweep: list[Path], tmp_path: Path) -> None:
    options = ["--parameter", "contrast", "--output-dir", str(tmp_path / "out"), "--bootstrap", "20"]
    result = CliRunner().invoke(app, ["compare", *options, "--input", *map(str, sweep)])
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == sorted(COMPARISON_FILES)
    result = CliRunner().invoke(app, ["compare", "--parameter", "ssnr", "-o", str(tmp_path / "x"), "-i", str(sweep[0])])
    assert result.exit_code == 1 and "missing columns ssnr" in result.output
    assert not (tmp_path / "x").exists()


def test_a_diverging_variant_is_drawn_off_the_scale_not_over_the_others(measures: pd.DataFrame) -> None:
    """A third network whose peak response is 1000 times the others' leaves the axis to them and is marked."""
    diverged = measures[measures["variant"] == "self"].copy()
    diverged["variant"], diverged["rctype"] = "diverged", "diverged"
    scaled = diverged["measure"] == "peak_response"
    diverged.loc[scaled, ["value", "ci_low", "ci_high"]] *= 1000
    figure = plot_comparison(pd.concat([measures, diverged], ignore_index=True), parameter="contrast")
    peak = measures[(measures["measure"] == "peak_response") & (measures["area"] == "V1")]["ci_high"].max()
    ax = figure.get_axes()[0]
    assert ax.get_title() == "V1" and ax.get_ylim()[1] < 2 * peak
    largest = diverged[scaled & (diverged["area"] == "V1") & (diverged["seed"] == "all")]["value"].max()
    assert f"\u25b2 diverged off scale, up to {largest:.3g}" in [text.get_text() for text in ax.texts]
    assert figure.get_axes()[2].get_ylim()[1] > 5  # latency panels, where nobody diverged, keep their own scale
