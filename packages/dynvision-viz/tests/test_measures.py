"""Each measure recovers the latency, contrast response and exponent built into synthetic data."""

import numpy as np
import pandas as pd
import pytest

from dynvision.viz.measures import (
    accuracy_over_time,
    accuracy_vs_parameter,
    criterion_table,
    fit_naka_rushton,
    fit_power_law,
    integrated_response,
    latency_table,
    naka_rushton,
    onset_latency,
    peak_latency,
    repetition_ratio,
    repetition_table,
    stimulus_periods,
    time_to_criterion,
)

DT = 2.0
TIMES = np.arange(0, 200, DT)


def bump(peak: float, width: float = 15.0, height: float = 1.0) -> np.ndarray:
    return height * np.exp(-0.5 * ((TIMES - peak) / width) ** 2)


def test_peak_latency_is_found_between_samples() -> None:
    assert peak_latency(TIMES, bump(61.3)) == pytest.approx(61.3, abs=0.2)
    assert peak_latency(TIMES, bump(61.3), onset=20.0) == pytest.approx(41.3, abs=0.2)


def test_onset_latency_is_the_half_rise_time() -> None:
    width, peak = 15.0, 80.0
    expected = peak - width * np.sqrt(2 * np.log(2))  # where a Gaussian is at half its height
    assert onset_latency(TIMES, bump(peak, width) + 0.3) == pytest.approx(expected, abs=0.5)
    with pytest.raises(ValueError, match="fraction must lie in"):
        onset_latency(TIMES, bump(peak), fraction=1.5)


def test_latency_table_recovers_known_latencies_per_area_and_contrast() -> None:
    known = {("V1", 0.2): 60.0, ("V1", 0.8): 40.0, ("IT", 0.2): 100.0, ("IT", 0.8): 80.0}
    rows = []
    for (area, contrast), peak in known.items():
        for sample in range(3):
            rows.append(
                pd.DataFrame(
                    {
                        "sample_index": sample,
                        "area": area,
                        "contrast": contrast,
                        "time_ms": TIMES,
                        "stimulus_on": TIMES >= 10,
                        "response_mean": bump(peak, width=8, height=contrast) + 0.01 * sample,
                    }
                )
            )
    latencies = latency_table(pd.concat(rows), by=["area", "contrast"]).set_index(["area", "contrast"])
    for key, peak in known.items():
        assert latencies.loc[key, "peak_latency"] == pytest.approx(peak - 10, abs=0.3)
        assert latencies.loc[key, "peak_response"] == pytest.approx(key[1], rel=0.02)
    assert (latencies["onset_latency"] < latencies["peak_latency"]).all()


def test_naka_rushton_fit_of_unsaturated_responses_caps_c50() -> None:
    """Responses still growing at the top contrast: c50 is capped, not sent to 1e8, and flagged."""
    contrast = np.array([0.1, 0.3, 0.6, 1.0])
    fit = fit_naka_rushton(contrast, 0.5 * contrast**0.7)
    assert not fit.saturates
    assert fit.c50 <= 10.0
    assert np.allclose(fit(contrast), 0.5 * contrast**0.7, atol=0.02)


def test_naka_rushton_fit_recovers_known_parameters() -> None:
    contrast = np.array([0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0])
    truth = naka_rushton(contrast, rmax=2.0, c50=0.18, n=2.2, baseline=0.1)
    noisy = truth + np.random.default_rng(0).normal(0, 0.005, contrast.shape)
    fit = fit_naka_rushton(contrast, noisy)
    assert fit.rmax == pytest.approx(2.0, rel=0.05)
    assert fit.c50 == pytest.approx(0.18, rel=0.05)
    assert fit.n == pytest.approx(2.2, rel=0.1)
    assert fit.baseline == pytest.approx(0.1, abs=0.03)
    assert np.allclose(fit(contrast), truth, atol=0.02)
    assert fit.saturates
    with pytest.raises(ValueError, match="at least 3 contrasts"):
        fit_naka_rushton([0.1, 0.1, 0.5], [1, 1, 2])


def test_power_law_fit_recovers_a_sublinear_exponent() -> None:
    durations = np.array([10.0, 20, 40, 80, 160])
    fit = fit_power_law(durations, 3.0 * durations**0.6)
    assert fit.exponent == pytest.approx(0.6, abs=1e-6) and fit.scale == pytest.approx(3.0)
    with pytest.raises(ValueError, match="at least 2 points"):
        fit_power_law([0.0, 1.0], [1.0, -1.0])


def test_temporal_summation_exponent_from_time_courses() -> None:
    """Responses whose integral grows as duration**0.5 give back an exponent of 0.5."""
    durations = np.array([20.0, 40, 80, 160])
    totals = [
        integrated_response(TIMES, np.where((TIMES >= 10) & (TIMES < 10 + d), d**0.5 / d, 0.0), onset=10)
        for d in durations
    ]
    assert fit_power_law(durations, totals).exponent == pytest.approx(0.5, abs=0.05)


def test_repetition_ratio_and_periods() -> None:
    on = ((TIMES >= 10) & (TIMES < 30)) | ((TIMES >= 100) & (TIMES < 120))
    assert stimulus_periods(TIMES, on) == [(10.0, 28.0), (100.0, 118.0)]
    response = bump(40, 8, 1.0) + bump(130, 8, 0.6)
    assert repetition_ratio(TIMES, response, stimulus_periods(TIMES, on)) == pytest.approx(0.6, abs=0.01)
    with pytest.raises(ValueError, match="two stimulus periods"):
        repetition_ratio(TIMES, response, [(10.0, 28.0)])
    table = pd.DataFrame({"area": "V1", "time_ms": TIMES, "stimulus_on": on, "response_mean": response})
    assert repetition_table(table)["repetition_ratio"].iloc[0] == pytest.approx(0.6, abs=0.01)


def test_time_to_criterion_interpolates_and_reports_never() -> None:
    accuracy = np.clip((TIMES - 20) / 100, 0, 1)
    assert time_to_criterion(TIMES, accuracy, 0.5) == pytest.approx(70.0)
    assert time_to_criterion(TIMES, accuracy, 0.5, onset=10.0) == pytest.approx(60.0)
    assert np.isnan(time_to_criterion(TIMES, accuracy, 1.1))


def tidy_accuracy() -> pd.DataFrame:
    rows = []
    for rctype, noise, delay in [("full", 0.1, 20), ("full", 0.5, 40), ("none", 0.1, 30), ("none", 0.5, 80)]:
        for sample in range(4):
            correct = (TIMES >= delay + 10 * sample).astype(int)
            rows.append(
                pd.DataFrame(
                    {
                        "rctype": rctype,
                        "ssnr": noise,
                        "sample_index": sample,
                        "time_ms": TIMES,
                        "stimulus_on": True,
                        "correct": correct,
                        "guess_confidence": 0.5 + 0.4 * correct,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def test_accuracy_over_time_and_vs_noise() -> None:
    table = tidy_accuracy()
    over_time = accuracy_over_time(table, ["rctype", "ssnr"])
    full = over_time[(over_time["rctype"] == "full") & (over_time["ssnr"] == 0.1)].set_index("time_ms")
    assert full.loc[30.0, "accuracy"] == pytest.approx(0.5) and full.loc[198.0, "accuracy"] == 1.0
    assert "guess_confidence" in over_time.columns
    versus = accuracy_vs_parameter(table, "ssnr", ["rctype"]).set_index(["rctype", "ssnr"])
    assert versus.loc[("full", 0.1), "accuracy"] > versus.loc[("none", 0.5), "accuracy"]
    windowed = accuracy_vs_parameter(table, "ssnr", ["rctype"], time_window=(150, 200))
    assert (windowed["accuracy"] == 1.0).all()
    with pytest.raises(ValueError, match="lacks the parameter column 'contrast'"):
        accuracy_vs_parameter(table, "contrast")


def test_criterion_table_orders_conditions() -> None:
    times = criterion_table(tidy_accuracy(), ["rctype", "ssnr"], criterion=0.5).set_index(["rctype", "ssnr"])
    assert times.loc[("full", 0.1), "time_to_criterion"] == pytest.approx(30.0, abs=DT)
    assert times.loc[("none", 0.5), "time_to_criterion"] == pytest.approx(90.0, abs=DT)
