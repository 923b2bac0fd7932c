"""Each measure recovers the latency, contrast response, exponent, suppression and criterion time built into
synthetic data, and degenerate responses give NaN with a reason instead of an absurd number."""

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
    naka_rushton_jacobian,
    onset_latency,
    peak_latency,
    repetition_ratio,
    repetition_table,
    response_windows,
    stimulus_periods,
    time_to_criterion,
)

DT = 2.0
TIMES = np.arange(0, 200, DT)


def bump(peak: float, width: float = 15.0, height: float = 1.0) -> np.ndarray:
    return height * np.exp(-0.5 * ((TIMES - peak) / width) ** 2)


def leaky(start: float, stop: float, tau: float = 8.0, height: float = 1.0) -> np.ndarray:
    """A leaky integrator driven from `start` to `stop` (ms): rises as 1 - exp(-t / tau), then decays."""
    rise = height * (1 - np.exp(-np.clip(TIMES - start, 0, None) / tau))
    peak = height * (1 - np.exp(-(stop - start) / tau))
    return np.where(TIMES <= stop, rise, peak * np.exp(-(TIMES - stop) / tau))


def half_rise(duration: float, tau: float = 8.0) -> float:
    """Time after its drive starts at which `leaky` reaches half of its peak."""
    return -tau * np.log(1 - (1 - np.exp(-duration / tau)) / 2)


def tidy(conditions: dict[tuple, tuple[np.ndarray, np.ndarray, float]], names: list[str]) -> pd.DataFrame:
    """A tidy table of two samples per condition: {values of `names`: (stimulus_on, response, delay in ms)}."""
    rows = []
    for key, (on, response, delay) in conditions.items():
        for sample, offset in enumerate((-0.01, 0.01)):  # the mean over samples is the response itself
            columns = {"sample_index": sample, "time_ms": TIMES, "stimulus_on": on, "response_mean": response + offset}
            rows.append(pd.DataFrame({**dict(zip(names, key, strict=True)), **columns, "response_delay_ms": delay}))
    return pd.concat(rows, ignore_index=True)


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


def test_latency_is_the_half_rise_after_each_areas_delay() -> None:
    """Leaky responses shifted by a delay per area; a larger second response must not be taken for the first.

    IT's first response peaks after the second stimulus starts: a window not shifted by its delay would cut it
    there and report the cut as the peak.
    """
    on = ((TIMES >= 10) & (TIMES <= 30)) | ((TIMES >= 60) & (TIMES <= 80))
    delays = {"V1": 4.0, "V4": 12.0, "IT": 36.0}
    conditions = {
        (area,): (on, 0.2 + leaky(10 + delay, 30 + delay) + leaky(60 + delay, 80 + delay, height=3.0), delay)
        for area, delay in delays.items()
    }
    table = latency_table(tidy(conditions, ["area"])).set_index("area")
    peak = 1 - np.exp(-20 / 8)
    for area, delay in delays.items():
        row = table.loc[area]
        assert row["onset_latency"] == pytest.approx(delay + half_rise(20), abs=DT)
        assert row["peak_latency"] == pytest.approx(20 + delay, abs=DT)
        assert row["peak_response"] == pytest.approx(peak, rel=0.01)
        assert (row["reason"], row["peak_at_edge"], row["response_delay_ms"]) == ("ok", False, delay)
        # the window ends where the second response's drive starts: rise, then decay until then
        decay = peak * 8 * (1 - np.exp(-(50 - 20) / 8))
        assert row["integrated_response"] == pytest.approx(20 - 8 * peak + decay, rel=0.03)
    assert response_windows([(10, 30), (60, 80)], 36.0) == [(46.0, 96.0), (96.0, np.inf)]


def test_degenerate_responses_give_nan_with_a_reason() -> None:
    """No response, a flat one and a window past the trial give NaN latencies; a peak at the edge is flagged."""
    on, twice = TIMES >= 10, ((TIMES >= 10) & (TIMES <= 30)) | ((TIMES >= 100) & (TIMES <= 120))
    conditions = {
        ("rising",): (on, leaky(14, 1000), 4.0),  # still rising at the trial's end
        ("flat",): (on, np.full(TIMES.shape, 0.3), 4.0),
        ("dip",): (on, 0.5 - leaky(14, 40), 4.0),
        ("tiny",): (twice, leaky(14, 34, height=1e-3) + leaky(104, 124), 4.0),  # small next to the second one
        ("late",): (on, leaky(14, 40), 500.0),
    }
    table = latency_table(tidy(conditions, ["kind"]), ["kind"]).set_index("kind")
    assert table["reason"].to_dict() == {
        "rising": "ok",
        "flat": "flat",
        "dip": "no_response",
        "tiny": "no_response",
        "late": "empty_window",
    }
    assert table["peak_at_edge"].to_dict() == dict.fromkeys(table.index, False) | {"rising": True}
    assert table.loc["rising", "peak_latency"] == pytest.approx(TIMES[-1] - 10)
    for kind in ("flat", "dip", "tiny", "late"):
        assert np.isnan(table.loc[kind, ["onset_latency", "peak_latency"]].astype(float)).all()
    assert table.loc["flat", "peak_response"] == pytest.approx(0.0) and np.isnan(table.loc["late", "peak_response"])


def test_contrast_response_of_windowed_peaks_recovers_c50_and_n() -> None:
    """Peaks scaled by a known Naka-Rushton curve; contrast 0 is flat and keeps its peak of 0 for the fit."""
    contrasts = [0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0]
    gain = naka_rushton(np.array(contrasts), rmax=1.5, c50=0.25, n=2.5)
    conditions = {(c,): (TIMES >= 10, 0.1 + leaky(16, 46, height=g), 6.0) for c, g in zip(contrasts, gain, strict=True)}
    table = latency_table(tidy(conditions, ["contrast"]), ["contrast"])
    assert table.set_index("contrast").loc[0.0, "reason"] == "flat"
    fit = fit_naka_rushton(table["contrast"], table["peak_response"])
    assert fit.c50 == pytest.approx(0.25, rel=0.02) and fit.n == pytest.approx(2.5, rel=0.02)
    assert fit.rmax == pytest.approx(1.5 * (1 - np.exp(-30 / 8)), rel=0.02)


def test_temporal_summation_of_windowed_integrals_recovers_the_exponent() -> None:
    """A leaky integrator's total response equals its drive: heights d**-0.4 sum to d**0.6 over durations d."""
    durations = [10.0, 20.0, 40.0, 80.0]
    conditions = {(d,): ((TIMES >= 10) & (TIMES < 10 + d), leaky(18, 18 + d, height=d**-0.4), 8.0) for d in durations}
    table = latency_table(tidy(conditions, ["stim"]), ["stim"])
    assert fit_power_law(table["stim"], table["integrated_response"]).exponent == pytest.approx(0.6, abs=0.02)


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


@pytest.mark.parametrize("baseline", [0.1, None])
def test_naka_rushton_jacobian_equals_finite_differences(baseline) -> None:
    contrast = np.array([0.0, 0.01, 0.1, 0.3, 1.0])
    params = np.array([2.0, 0.18, 2.2] + ([] if baseline is None else [baseline]))
    step = 1e-6
    numeric = [
        (naka_rushton(contrast, *(params + step * e)) - naka_rushton(contrast, *(params - step * e))) / (2 * step)
        for e in np.eye(len(params))
    ]
    analytic = naka_rushton_jacobian(contrast, *params[:3], baseline)
    np.testing.assert_allclose(analytic, np.stack(numeric, 1), rtol=1e-6, atol=1e-8)


def test_a_fit_started_from_another_fit_finds_the_same_parameters() -> None:
    """A bootstrap replicate's fit starts from the fit of the data; the start must not change where it ends."""
    contrast = np.array([0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0])
    noisy = naka_rushton(contrast, 2.0, 0.18, 2.2, 0.1) + np.random.default_rng(1).normal(0, 0.01, contrast.shape)
    cold = fit_naka_rushton(contrast, noisy)
    warm = fit_naka_rushton(contrast, noisy, start=fit_naka_rushton(contrast, noisy * 1.1))
    assert warm.c50 == pytest.approx(cold.c50, rel=1e-4)
    assert warm.n == pytest.approx(cold.n, rel=1e-4)


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


def two_presentations(interval: float, suppression: float, delay: float, height: float = 1.0):
    """Stimulus frames and responses of a repetition trial and its control (second presentation blank).

    The trial's response is first + suppression * first shifted to the second presentation, so the evoked second
    response is `suppression` times the first, however much of the first one's tail overlaps it.
    """
    second = 22 + interval
    first_on, second_on = (TIMES >= 10) & (TIMES <= 20), (TIMES >= second) & (TIMES <= second + 10)
    first = leaky(10 + delay, 20 + delay, height=height)
    shifted = leaky(second + delay, second + 10 + delay)
    return first_on | second_on, first + suppression * shifted, first_on, first


@pytest.mark.parametrize("suppression", [0.0, 0.3, 0.6, 1.0])
def test_repetition_against_its_control_recovers_the_suppression(suppression: float) -> None:
    """With 4 ms between presentations the first response has not decayed: only the control removes its tail."""
    on, response, _, control = two_presentations(4.0, suppression, delay=6.0)
    periods = stimulus_periods(TIMES, on)
    assert repetition_ratio(TIMES, response, periods, control=control, delay=6.0) == pytest.approx(suppression)
    assert repetition_ratio(TIMES, response, periods, delay=6.0) > suppression + 0.1  # the tail counted twice


def test_repetition_table_pairs_each_condition_with_its_control() -> None:
    conditions = {}
    for area, delay in (("V1", 2.0), ("IT", 8.0)):
        for interval, repeat in ((0.0, True), (0.0, False), (4.0, True), (4.0, False), (40.0, True)):
            on, response, control_on, control = two_presentations(interval, 0.5, delay)
            conditions[(area, interval, repeat)] = (on, response, delay) if repeat else (control_on, control, delay)
    table = repetition_table(tidy(conditions, ["area", "interval", "repeat"]), ["area", "interval"])
    table = table.set_index(["area", "interval"])
    assert len(table) == 6  # the controls get no rows of their own
    for area in ("V1", "IT"):
        assert table.loc[(area, 4.0), "repetition_ratio"] == pytest.approx(0.5)
        assert table.loc[(area, 4.0), "repetition_control"] and table.loc[(area, 4.0), "reason"] == "ok"
        assert np.isnan(table.loc[(area, 0.0), "repetition_ratio"])  # the presentations merge into one period
        assert table.loc[(area, 0.0), "reason"] == "single_period"
        without = table.loc[(area, 40.0)]  # no control: second / first peak, marked as such
        assert not without["repetition_control"] and without["repetition_ratio"] == pytest.approx(0.5, abs=0.01)
    assert table.groupby("area")["response_delay_ms"].agg(set).to_dict() == {"IT": {8.0}, "V1": {2.0}}


def test_repetition_over_a_first_response_near_zero_is_nan_not_huge() -> None:
    """A first peak of 0.001 under a second of 1 once gave ratios of 1000 and more."""
    on, response, _, control = two_presentations(40.0, 1.0, delay=4.0, height=1e-3)
    periods = stimulus_periods(TIMES, on)
    assert np.isnan(repetition_ratio(TIMES, response, periods, control=control, delay=4.0))
    table = pd.DataFrame({"area": "V1", "time_ms": TIMES, "stimulus_on": on, "response_mean": response})
    assert repetition_table(table).iloc[0][["reason", "repetition_control"]].tolist() == ["first_no_response", False]


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
    assert times["reached"].all()


def test_criterion_table_keeps_conditions_that_never_reach_it() -> None:
    """Accuracy rising linearly to a plateau: it crosses 0.6 at a known time, or never when the plateau is lower."""
    rows = [
        pd.DataFrame({"rctype": rctype, "time_ms": TIMES, "stimulus_on": TIMES >= 10, "correct": accuracy})
        for rctype, accuracy in (
            ("full", np.clip((TIMES - 10) / 100, 0, 0.9)),  # 0.6 at 70 ms, 60 ms after the onset
            ("none", np.clip((TIMES - 10) / 100, 0, 0.5)),
        )
    ]
    times = criterion_table(pd.concat(rows), ["rctype"], criterion=0.6).set_index("rctype")
    assert list(times.index) == ["full", "none"]
    assert times.loc["full", "time_to_criterion"] == pytest.approx(60.0) and times.loc["full", "reached"]
    assert np.isnan(times.loc["none", "time_to_criterion"]) and not times.loc["none", "reached"]
