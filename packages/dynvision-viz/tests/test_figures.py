"""Every figure is non-empty and its panels, labels and lines match the data it was given."""

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from dynvision.viz.figures import (
    chance_of,
    confusion_matrix,
    plot_confusion,
    plot_performance,
    plot_responses,
    plot_summary,
    plot_training,
    plot_unrolling,
    plot_weights,
    read_training_log,
    save_figure,
)
from dynvision.viz.measures import naka_rushton

matplotlib.use("Agg")
TIMES = np.arange(0, 40, 2.0)
AREAS = ["V1", "V2", "V4", "IT"]


@pytest.fixture
def tidy() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for contrast in (0.1, 0.5, 1.0):
        for index, area in enumerate(AREAS):
            for sample in range(2):
                rows.append(
                    pd.DataFrame(
                        {
                            "sample_index": sample,
                            "time_ms": TIMES,
                            "area": area,
                            "contrast": contrast,
                            "stimulus_on": (TIMES >= 4) & (TIMES < 20),
                            "response_mean": contrast * np.exp(-0.5 * ((TIMES - 10 - 3 * index) / 4) ** 2),
                            "correct": (TIMES > 10).astype(int),
                            "guess_confidence": rng.uniform(0, 1, len(TIMES)),
                        }
                    )
                )
    return pd.concat(rows, ignore_index=True)


def data_lines(ax) -> list:
    return [line for line in ax.get_lines() if len(line.get_xdata()) > 2]


def test_responses_have_one_panel_per_area_and_one_line_per_condition(tidy: pd.DataFrame) -> None:
    figure = plot_responses(tidy.sort_values("area"), hue="contrast")
    assert [ax.get_title() for ax in figure.axes] == AREAS  # in the configured order, not alphabetical
    for ax in figure.axes:
        assert len(data_lines(ax)) == 3 and ax.get_xlabel() == "Time (ms)"
        assert len(ax.patches) == 1  # one shaded stimulus period
        assert ax.get_lines()[0].get_xdata().max() == TIMES.max()
    assert figure.axes[0].get_ylabel().startswith("Response")
    assert [text.get_text() for text in figure.legends[0].get_texts()] == ["0.1", "0.5", "1.0"]


def test_responses_without_hue_colour_by_area_and_refuse_bad_input(tidy: pd.DataFrame) -> None:
    figure = plot_responses(tidy[tidy["contrast"] == 1.0], areas=["IT", "V1"])
    assert [ax.get_title() for ax in figure.axes] == ["IT", "V1"]
    assert all(len(data_lines(ax)) == 1 for ax in figure.axes)
    with pytest.raises(ValueError, match="needs columns rctype"):
        plot_responses(tidy, hue="rctype")
    with pytest.raises(ValueError, match="empty table"):
        plot_responses(tidy.iloc[:0])


def test_performance_shows_accuracy_and_confidence(tidy: pd.DataFrame) -> None:
    figure = plot_performance(tidy, hue="contrast")
    assert [ax.get_ylabel() for ax in figure.axes] == ["Accuracy", "Confidence of the guess"]
    accuracy = data_lines(figure.axes[0])
    assert len(accuracy) == 3 and list(accuracy[0].get_ydata()) == list((TIMES > 10).astype(float))
    assert figure.legends[0].get_title().get_text() == "Contrast"


def interval_table() -> pd.DataFrame:
    """Two intervals, each shown twice and as its single-presentation control (repeat false)."""
    rows = []
    for interval in (4, 12):
        for repeat in (True, False):
            on = ((TIMES >= 2) & (TIMES < 6)) | (repeat & (TIMES >= 6 + interval) & (TIMES < 10 + interval))
            rows.append(
                pd.DataFrame(
                    {
                        "time_ms": TIMES,
                        "area": "V1",
                        "intervalms": interval,
                        "repeat": repeat,
                        "stimulus_on": on,
                        "response_mean": on.astype(float) * (1.0 if repeat else 0.5),
                        "correct": 1,
                        "guess_confidence": 0.5,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def test_conditions_with_their_own_stimulus_times_get_a_bar_each_and_controls_are_dashed() -> None:
    figure = plot_responses(interval_table(), hue="intervalms", control="repeat")
    (ax,) = figure.axes
    bars = sorted((patch.get_x(), round(patch.get_width(), 6)) for patch in ax.patches)
    assert bars == [(1.0, 4.0), (1.0, 4.0), (9.0, 4.0), (17.0, 4.0)]  # each interval's own two presentations
    styles = [(line.get_linestyle(), line.get_label().startswith("_")) for line in data_lines(ax)]
    assert styles == [("-", False), ("-", False), ("--", True), ("--", True)]  # controls dashed, not in the legend
    assert "single presentation (control)" in [text.get_text() for text in figure.legends[0].get_texts()]
    performance = plot_performance(interval_table(), hue="intervalms", control="repeat")
    assert [line.get_linestyle() for line in data_lines(performance.axes[0])] == ["-", "-", "--", "--"]


def test_one_shade_where_every_condition_shows_the_stimulus_at_the_same_times(tidy: pd.DataFrame) -> None:
    ax = plot_responses(tidy, hue="contrast").axes[0]
    assert [(patch.get_x(), patch.get_width()) for patch in ax.patches] == [(3.0, 16.0)]


def test_accuracy_figures_draw_chance_from_the_number_of_classes(tidy: pd.DataFrame) -> None:
    assert chance_of(tidy) is None and chance_of(tidy.assign(n_classes=10)) == pytest.approx(0.1)
    figure = plot_performance(tidy, hue="contrast", chance=0.1)
    flat = [line for line in figure.axes[0].get_lines() if list(line.get_ydata()) == [0.1, 0.1]]
    assert len(flat) == 1 and [text.get_text() for text in figure.axes[0].texts] == ["chance"]
    assert not figure.axes[1].texts  # confidence has no chance line
    near_chance = pd.DataFrame({"ssnr": [0.7, 0.8, 0.9], "accuracy": [0.078, 0.080, 0.078]})
    summary = plot_summary(near_chance, parameter="ssnr", measure="accuracy", chance=0.1).axes[0]
    assert summary.get_ylim() == pytest.approx((-0.02, 1.02))  # not a range that makes noise look like an effect


def test_summary_with_naka_rushton_fit_reports_its_parameters() -> None:
    contrast = np.array([0.05, 0.1, 0.2, 0.4, 0.8, 1.0])
    measures = pd.DataFrame(
        {
            "contrast": np.tile(contrast, 2),
            "peak_response": np.r_[naka_rushton(contrast, 1, 0.2, 2), naka_rushton(contrast, 2, 0.4, 3)],
            "area": np.repeat(["V1", "IT"], len(contrast)),
        }
    )
    figure = plot_summary(measures, parameter="contrast", measure="peak_response", hue="area", fit="naka-rushton")
    (ax,) = figure.axes
    assert len(ax.get_lines()) == 4  # points and fit per area
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels[0].startswith("V1: c50=0.2") and labels[1].startswith("IT: c50=0.4")
    assert ax.get_xlabel() == "Contrast" and ax.get_ylabel() == "Peak response (a.u.)"
    with pytest.raises(ValueError, match="unknown fit 'linear'"):
        plot_summary(measures, parameter="contrast", measure="peak_response", fit="linear")


def test_summary_with_power_law_uses_log_axes() -> None:
    measures = pd.DataFrame({"stim": [10.0, 20, 40], "integrated_response": [1.0, 1.5, 2.25]})
    figure = plot_summary(measures, parameter="stim", measure="integrated_response", fit="power-law")
    ax = figure.axes[0]
    assert ax.get_xscale() == "log" and "exponent=0.58" in ax.get_legend().get_texts()[0].get_text()


def test_training_curves_from_a_lightning_log(tmp_path: Path) -> None:
    log = pd.DataFrame(
        {
            "epoch": [0, 0, 1, 1, 2, 2],
            "step": [9, 9, 19, 19, 29, 29],
            "train_loss": [2.0, None, 1.5, None, 1.0, None],
            "val_loss": [None, 2.2, None, 1.8, None, 1.4],
            "val_acc": [None, 0.2, None, 0.4, None, 0.5],
        }
    )
    path = tmp_path / "metrics.csv"
    log.to_csv(path, index=False)
    per_epoch = read_training_log(path)
    assert per_epoch["val_loss"].tolist() == [2.2, 1.8, 1.4]
    figure = plot_training(per_epoch)
    loss, accuracy = figure.axes
    assert [line.get_label() for line in loss.get_lines()] == ["training", "validation"]
    assert [line.get_label() for line in accuracy.get_lines()] == ["validation"]
    assert loss.get_xlabel() == "Epoch" and accuracy.get_ylabel() == "Accuracy"
    assert list(loss.get_lines()[0].get_xdata()) == [1, 2, 3]  # epochs counted from 1


def test_training_curves_prefer_epoch_means_and_show_accuracy_per_time_step() -> None:
    log = pd.DataFrame(
        {
            "epoch": [0, 1],
            "train_loss_step": [2.5, 1.4],
            "train_loss_epoch": [2.0, 1.0],
            "val_loss": [2.2, 1.2],
            "val_acc": [0.3, 0.6],
            "val_acc_t002": [0.1, 0.2],
            "val_acc_t003": [0.3, 0.7],
        }
    )
    loss, _, steps = plot_training(log).axes
    assert list(loss.get_lines()[0].get_ydata()) == [2.0, 1.0]  # the epoch mean, not the last step
    assert list(steps.get_lines()[0].get_xdata()) == [2, 3] and list(steps.get_lines()[0].get_ydata()) == [0.2, 0.7]
    assert steps.get_title() == "per time step, epoch 2"
    with pytest.raises(ValueError, match="no loss or accuracy columns"):
        plot_training(pd.DataFrame({"epoch": [0], "lr": [0.1]}))


def test_a_training_curve_of_one_epoch_has_whole_epoch_ticks() -> None:
    figure = plot_training(pd.DataFrame({"epoch": [0], "train_loss": [2.3], "val_loss": [2.2]}))
    figure.canvas.draw()
    ticks = [tick for tick in figure.axes[0].get_xticks() if 0.5 <= tick <= 1.5]
    assert ticks == [1.0]


def test_weights_have_one_panel_per_connection_type() -> None:
    rng = np.random.default_rng(0)
    weights = {"feedforward": rng.normal(0, 0.1, 500), "recurrence": rng.normal(0, 0.02, 300)}
    figure = plot_weights(weights)
    assert [ax.get_title().split("\n")[0] for ax in figure.axes] == ["feedforward", "recurrence"]
    assert "n=300" in figure.axes[1].get_title() and all(ax.patches for ax in figure.axes)
    with pytest.raises(ValueError, match="no weights"):
        plot_weights({})


def test_confusion_matrix_counts_and_plots() -> None:
    matrix = confusion_matrix([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], n_classes=3)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]
    figure = plot_confusion(matrix, class_names=["cat", "dog", "car"])
    ax = figure.axes[0]
    assert [label.get_text() for label in ax.get_yticklabels()] == ["cat", "dog", "car"]
    assert ax.images[0].get_array()[0, 1] == pytest.approx(0.5) and len(ax.texts) == 9
    with pytest.raises(ValueError, match="2 class names for a 3-class matrix"):
        plot_confusion(matrix, class_names=["a", "b"])


def test_unrolling_draws_each_delay() -> None:
    figure = plot_unrolling(AREAS[:3], n_timesteps=6, dt=2.0, delays={"feedforward": 2.0, "recurrence": 6.0})
    engineering, biological = figure.axes
    assert engineering.get_title() == "Engineering time" and biological.get_xlabel() == "Time (ms)"
    ends = sorted((arrow.xy, arrow.xyann) for arrow in biological.texts)
    # feedforward V1->V2, V2->V3 after 2 ms; recurrence in each of 3 areas after 6 ms
    assert len(ends) == 5 and ((6.0, 0), (0, 0)) in [(tuple(a), tuple(b)) for a, b in ends]
    assert len(engineering.texts) == 5
    with pytest.raises(ValueError, match="unknown connection types lateral"):
        plot_unrolling(AREAS, n_timesteps=4, dt=1.0, delays={"lateral": 1.0})


def test_save_figure_writes_a_png(tidy: pd.DataFrame, tmp_path: Path) -> None:
    [path] = save_figure(plot_performance(tidy), tmp_path / "figs" / "performance.png")
    assert path.read_bytes()[:4] == b"\x89PNG" and [p.name for p in path.parent.iterdir()] == ["performance.png"]


def test_save_figure_writes_vector_copies_of_the_same_drawing(tidy: pd.DataFrame, tmp_path: Path) -> None:
    paths = save_figure(plot_performance(tidy), tmp_path / "a.png", tmp_path / "a.pdf", tmp_path / "a.svg")
    assert [path.read_bytes()[:4] for path in paths] == [b"\x89PNG", b"%PDF", b"<?xm"]


def test_plotting_leaves_global_style_alone(tidy: pd.DataFrame) -> None:
    before = dict(matplotlib.rcParams)
    plot_responses(tidy, hue="contrast")
    assert dict(matplotlib.rcParams) == before


def test_summary_without_enough_points_shows_them_unfitted() -> None:
    measures = pd.DataFrame({"contrast": [0.2, 1.0], "peak_response": [0.1, 0.4], "sem": [0.01, 0.02]})
    with pytest.warns(UserWarning, match="no naka-rushton fit for peak_response: a Naka-Rushton fit needs at least 3"):
        figure = plot_summary(measures, parameter="contrast", measure="peak_response", fit="naka-rushton", error="sem")
    ax = figure.axes[0]
    assert len(data_lines(ax)) == 0 and len(ax.get_lines()) == 1
    assert ax.get_legend().get_texts()[0].get_text() == "no fit"


def test_summary_of_named_levels_puts_them_side_by_side() -> None:
    measures = pd.DataFrame({"adapter": ["same", "none", "different"], "accuracy": [0.8, 0.5, 0.6]})
    ax = plot_summary(measures, parameter="adapter", measure="accuracy").axes[0]
    assert [label.get_text() for label in ax.get_xticklabels()] == ["different", "none", "same"]
    [line] = ax.get_lines()
    assert line.get_xdata().tolist() == [0, 1, 2] and line.get_ydata().tolist() == [0.6, 0.5, 0.8]
    flags = pd.DataFrame({"topdown": [False, True], "accuracy": [0.7, 0.4]})
    ax = plot_summary(flags, parameter="topdown", measure="accuracy").axes[0]
    assert [label.get_text() for label in ax.get_xticklabels()] == ["False", "True"]
    with pytest.raises(ValueError, match=r"^a naka-rushton fit needs a numeric parameter; 'adapter' has the levels"):
        plot_summary(measures, parameter="adapter", measure="accuracy", fit="naka-rushton")
