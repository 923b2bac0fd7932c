"""Every command of `dynvision-viz` runs through typer's CliRunner on synthetic tests."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from typer.testing import CliRunner

from dynvision.viz.cli import app
from dynvision.viz.plots import PLOTS
from dynvision.viz.report import PLOT_NAMES

runner = CliRunner()


@pytest.fixture
def experiment(make_test, tmp_path: Path) -> Path:
    """An aggregated contrast experiment over three contrasts, with area responses."""
    inputs = []
    for index, contrast in enumerate([0.2, 0.5, 1.0]):
        inputs += make_test(
            tmp_path, f"c{index}", data_args={"contrast": contrast}, model_args={"rctype": "full", "tff": 2, "trc": 4}
        )
    target = tmp_path / "data.csv"
    args = ["aggregate", "contrast", "--parameter", "contrast", "--output", str(target), "--input"]
    result = runner.invoke(app, [*args, *map(str, inputs)])
    assert result.exit_code == 0, result.output
    return target


def test_every_plot_has_a_caption() -> None:
    assert tuple(PLOTS) == PLOT_NAMES


def test_list_names_every_plot() -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines()] == list(PLOTS)


def test_process_writes_a_tidy_table(one_test: tuple[Path, Path], tmp_path: Path) -> None:
    outputs_path, responses_path = one_test
    target = tmp_path / "tidy.csv"
    result = runner.invoke(
        app, ["process", "--input", str(outputs_path), "--responses", str(responses_path), "--output", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 60 rows" in result.output and len(pd.read_csv(target)) == 60


def test_process_reports_a_bad_file_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "X_test_outputs.csv"
    bad.write_text("sample_index,times_index\n0,0\n")
    result = runner.invoke(app, ["process", "--input", str(bad), "--output", str(tmp_path / "t.csv")])
    assert result.exit_code == 1
    assert "missing required columns label_index" in result.output and "Traceback" not in result.output


def test_aggregate_takes_the_workflow_argument_order(experiment: Path) -> None:
    table = pd.read_csv(experiment)
    assert len(table) == 3 * 3 * 5 * 4 and set(table["experiment"]) == {"contrast"}
    assert sorted(table["contrast"].unique()) == [0.2, 0.5, 1.0]


def test_aggregate_with_repeated_flags_and_no_name(make_test, tmp_path: Path) -> None:
    first, _ = make_test(tmp_path, "a")
    second, _ = make_test(tmp_path, "b")
    target = tmp_path / "data.csv"
    result = runner.invoke(app, ["aggregate", "-o", str(target), "-i", str(first), "-i", str(second)])
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(target)) == 30
    result = runner.invoke(app, ["aggregate", "-o", str(target), "-i", str(first), "--parameter", "ssnr"])
    assert result.exit_code == 1 and "swept parameter 'ssnr' is in no sidecar" in result.output


@pytest.mark.parametrize(
    "name, extra",
    [
        ("responses", []),
        ("performance", []),
        ("summary", []),
        ("summary", ["--measure", "peak_latency"]),
        ("summary", ["--measure", "accuracy"]),
        ("summary", ["--measure", "time_to_criterion", "--criterion", "0.6"]),
        ("confusion", []),
        ("unrolling", []),
    ],
)
def test_plots_from_an_experiment_table(experiment: Path, tmp_path: Path, name: str, extra: list[str]) -> None:
    target = tmp_path / f"{name}.png"
    args = ["plot", name, "--parameter", "contrast", "--input", str(experiment), "--output", str(target), *extra]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:4] == b"\x89PNG"


def test_the_confusion_matrix_names_the_classes_of_the_tables_sidecar(experiment: Path) -> None:
    from dynvision.viz.contract import class_names_of
    from dynvision.viz.plots import PlotOptions, confusion

    from .conftest import CLASS_NAMES

    assert class_names_of(experiment) == CLASS_NAMES  # aggregate keeps what every test shares
    (ax, _) = confusion(experiment, PlotOptions()).axes
    assert [label.get_text() for label in ax.get_xticklabels()] == CLASS_NAMES
    assert ax.get_xlabel() == "Predicted class"


def test_summary_accuracy_counts_only_labelled_frames(tmp_path: Path) -> None:
    """Guesses on blank frames (all wrong here) must not dilute the accuracy of the stimulus frames."""
    from dynvision.viz.plots import PlotOptions, summary

    rows = [
        {"contrast": c, "time_ms": t, "stimulus_on": on, "correct": 1.0 if on else 0.0}
        for c in (0.1, 0.5, 1.0)
        for t, on in [(0, False), (2, True), (4, True), (6, False)]
    ]
    table = tmp_path / "experiment.csv"
    pd.DataFrame(rows).to_csv(table, index=False)
    figure = summary(table, PlotOptions(parameter="contrast", measure="accuracy"))
    (line,) = [line for ax in figure.axes for line in ax.lines]
    assert line.get_ydata().tolist() == [1.0, 1.0, 1.0]


def test_summary_shows_the_accuracy_at_the_end_of_the_stimulus_by_default(tmp_path: Path) -> None:
    """The read-out responds late: the default summary takes the last frame with a stimulus, not the mean over the
    frames before it has responded (0.25, 0.5, 1.0 here: the mean over the stimulus would be 1/3 of those)."""
    from dynvision.viz.plots import PlotOptions, summary

    rows = [
        {"ssnr": s, "time_ms": t, "stimulus_on": on, "correct": end if t == 6 else 0.0}
        for s, end in ((0.8, 0.25), (0.9, 0.5), (1.0, 1.0))
        for t, on in [(0, False), (2, True), (4, True), (6, True), (8, False)]
    ]
    table = tmp_path / "experiment.csv"
    pd.DataFrame(rows).to_csv(table, index=False)
    ((line,),) = [ax.lines[:1] for ax in summary(table, PlotOptions(parameter="ssnr")).axes]
    assert line.get_ydata().tolist() == [0.25, 0.5, 1.0]
    (mean,) = [ax.lines[0] for ax in summary(table, PlotOptions(parameter="ssnr", measure="accuracy")).axes]
    assert mean.get_ydata() == pytest.approx([0.25 / 3, 0.5 / 3, 1 / 3])


def test_summary_of_repetition_measures_against_the_control(tmp_path: Path) -> None:
    """An interval experiment with its repeat=false controls: the plotted ratio is the known suppression (the
    first response peaks after the second presentation starts, so only a window shifted by the delay holds it)."""
    from dynvision.viz.plots import PlotOptions, summary

    times = np.arange(0.0, 80.0, 2.0)
    first = np.where(times >= 18, np.exp(-(times - 18) / 6) * (times - 18), 0.0)  # shown at 2 ms, 16 ms delay
    rows = []
    for interval in (4, 8):
        second = 6 + 2 * interval
        on = ((times >= 2) & (times <= 4)) | ((times >= second) & (times <= second + 2))
        shifted = np.interp(times - (second - 2), times, first, left=0.0)
        for repeat, response in ((True, first + 0.4 * shifted), (False, first)):
            stimulus_on = on if repeat else on & (times <= 4)
            for time, value, shown in zip(times, response, stimulus_on, strict=True):
                rows.append({"interval": interval, "repeat": repeat, "area": "V1", "time_ms": time})
                rows[-1] |= {"stimulus_on": shown, "response_mean": value, "response_delay_ms": 16.0}
    table = tmp_path / "experiment.csv"
    for parameter in ("interval", "intervalms"):  # in frames or in ms, the interval's summary is the ratio
        pd.DataFrame(rows).rename(columns={"interval": parameter}).to_csv(table, index=False)
        figure = summary(table, PlotOptions(parameter=parameter))
        (line,) = [line for ax in figure.axes for line in ax.lines]
        assert line.get_ydata() == pytest.approx([0.4, 0.4])


def test_plot_training_and_weights(tmp_path: Path) -> None:
    log = tmp_path / "metrics.csv"
    pd.DataFrame({"epoch": [0, 0, 1, 1], "step": [1, 1, 2, 2], "train_loss": [1, None, 0.5, None]}).to_csv(log)
    result = runner.invoke(app, ["plot", "training", "--input", str(log), "--output", str(tmp_path / "t.png")])
    assert result.exit_code == 0, result.output
    model = tmp_path / "model.pt"
    state = {"layers.V1.ff.weight": torch.randn(4, 3, 3, 3), "layers.V1.rec.conv.weight": torch.randn(4, 4, 3, 3)}
    state |= {"layers.V4.skip.weight": torch.randn(4, 4, 1, 1), "layers.V1.ff.bias": torch.randn(4)}
    torch.save({"format": 1, "name": "DyRCNNx4", "state_dict": state}, model)
    result = runner.invoke(app, ["plot", "weights", "--input", str(model), "--output", str(tmp_path / "w.pdf")])
    assert result.exit_code == 0, result.output
    from dynvision.viz.plots import load_weights

    assert {name: len(values) for name, values in load_weights(model).items()} == {
        "feedforward": 108,
        "recurrence": 144,
        "skip": 16,
    }
    npz = tmp_path / "w.npz"
    np.savez(npz, feedforward=np.ones(5))
    assert load_weights(npz)["feedforward"].tolist() == [1.0] * 5


def test_plot_errors_are_one_line(experiment: Path, tmp_path: Path, one_test: tuple[Path, Path]) -> None:
    out = str(tmp_path / "x.png")
    result = runner.invoke(app, ["plot", "heatmap", "--input", str(experiment), "--output", out])
    assert result.exit_code == 1 and "unknown plot 'heatmap' (valid: responses, performance" in result.output
    result = runner.invoke(app, ["plot", "summary", "--input", str(experiment), "--output", out])
    assert result.exit_code == 1 and "needs --parameter" in result.output
    args = ["plot", "summary", "--parameter", "contrast", "--measure", "nope", "--input", str(experiment), "-o", out]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "unknown measure 'nope'" in result.output
    outputs_path, _ = one_test
    result = runner.invoke(app, ["plot", "responses", "--input", str(outputs_path), "--output", out])
    assert result.exit_code == 1 and "has no area responses" in result.output
    sidecar = yaml.safe_load(outputs_path.with_name("X_test_outputs.config.yaml").read_text())
    assert "tff" not in sidecar["model_args"]
    result = runner.invoke(app, ["plot", "unrolling", "--input", str(outputs_path), "--output", out])
    assert result.exit_code == 1 and "needs dt and n_timesteps" in result.output
    assert not Path(out).exists()


def test_plot_uses_a_given_palette_config(experiment: Path, tmp_path: Path) -> None:
    config = tmp_path / "viz.yaml"
    config.write_text("palettes:\n  area:\n    V1: '#000000'\n")
    args = [
        "plot",
        "responses",
        "--input",
        str(experiment),
        "--output",
        str(tmp_path / "r.png"),
        "--config",
        str(config),
    ]
    assert runner.invoke(app, args).exit_code == 0


def test_help_is_instant_without_heavy_imports() -> None:
    code = "import sys; import dynvision.viz.cli; print(sorted({'torch', 'pandas', 'matplotlib'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"
    assert runner.invoke(app, ["--version"]).output.startswith("dynvision-viz ")


def test_unrolling_reads_areas_and_delays_from_the_table(experiment: Path) -> None:
    from dynvision.viz.plots import draw

    figure = draw("unrolling", experiment)
    biological = figure.axes[1]
    assert [label.get_text() for label in biological.get_yticklabels()] == ["V1", "V2", "V4", "IT"]
    assert [text.get_text() for text in figure.legends[0].get_texts()] == ["feedforward (2 ms)", "recurrence (4 ms)"]


def test_unrolling_takes_resolved_delays_from_the_sidecar(tmp_path: Path) -> None:
    """Delays the file name leaves to the model's defaults come from the sidecar's ``dynamics``."""
    from dynvision.viz.plots import draw

    config = tmp_path / "X_test_outputs.config.yaml"
    dynamics = {"dt": 2.0, "tau": 8.0, "t_feedforward": 2.0, "t_recurrence": 6.0, "first_response_step": {"V1": 1}}
    config.write_text(yaml.safe_dump({"model_args": {"tsteps": 5}, "dt": 2.0, "dynamics": dynamics}))
    legend = [text.get_text() for text in draw("unrolling", config).legends[0].get_texts()]
    assert legend == ["feedforward (2 ms)", "recurrence (6 ms)"]
    config.write_text(yaml.safe_dump({"model_args": {"tsteps": 5, "trc": 4.0}, "dt": 2.0, "dynamics": dynamics}))
    legend = [text.get_text() for text in draw("unrolling", config).legends[0].get_texts()]
    assert legend == ["feedforward (2 ms)", "recurrence (4 ms)"]  # the file name's arguments come first
