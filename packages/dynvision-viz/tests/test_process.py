"""Processing keeps every row and column and puts each test's parameters next to its rows."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from dynvision.viz.contract import DataContractError, sidecar_path
from dynvision.viz.process import aggregate_tests, experiment_columns, process_test, summarise_table, tidy_test


def test_tidy_has_one_row_per_sample_time_and_area(one_test: tuple[Path, Path]) -> None:
    outputs_path, responses_path = one_test
    tidy = tidy_test(outputs_path, responses_path)
    assert len(tidy) == 3 * 5 * 4
    assert {"time_ms", "area", "correct", "stimulus_on", "response_mean", "response_std"} <= set(tidy.columns)
    assert sorted(tidy["time_ms"].unique()) == [0.0, 2.0, 4.0, 6.0, 8.0]
    v4 = tidy[(tidy["area"] == "V4") & (tidy["times_index"] == 3)]
    assert np.allclose(v4["response_mean"], 3 + 3)  # area index 2 -> 3, plus time step 3
    assert tidy.groupby("times_index")["correct"].mean().tolist() == [0, 0, 1, 1, 1]
    assert tidy.groupby("times_index")["stimulus_on"].mean().tolist() == [0, 1, 1, 1, 1]


def test_tidy_rows_carry_each_areas_response_delay(make_test, tmp_path: Path) -> None:
    """The delay is the sidecar's first response step x dt per area, 0 where the sidecar does not say."""
    dynamics = {"dt": 2.0, "first_response_step": {"V1": 1, "V2": 2, "V4": 3, "IT": 4}}
    outputs_path, responses_path = make_test(tmp_path, "delayed", dynamics=dynamics)
    delays = tidy_test(outputs_path, responses_path).groupby("area")["response_delay_ms"].unique()
    assert {area: values.tolist() for area, values in delays.items()} == {
        "V1": [2.0],
        "V2": [4.0],
        "V4": [6.0],
        "IT": [8.0],
    }
    plain = tidy_test(*make_test(tmp_path, "plain"))
    assert (plain["response_delay_ms"] == 0.0).all()
    outputs_path, responses_path = make_test(tmp_path, "bad", dynamics={"first_response_step": {"V1": -1}})
    with pytest.raises(DataContractError, match="first_response_step of 'V1' must be an integer >= 0, got -1"):
        tidy_test(outputs_path, responses_path)


def test_tidy_without_responses_takes_dt_from_the_sidecar(one_test: tuple[Path, Path]) -> None:
    outputs_path, _ = one_test
    tidy = tidy_test(outputs_path)
    assert len(tidy) == 15 and "area" not in tidy.columns and tidy["time_ms"].max() == 8.0


def test_rows_and_responses_must_agree(one_test: tuple[Path, Path]) -> None:
    outputs_path, responses_path = one_test
    table = pd.read_csv(outputs_path)
    table[table["sample_index"] < 2].to_csv(outputs_path, index=False)
    with pytest.raises(DataContractError, match="has 10 rows but the responses hold 3 samples x 5 time steps"):
        tidy_test(outputs_path, responses_path)
    table.assign(times_index=table["times_index"] + 1).to_csv(outputs_path, index=False)
    with pytest.raises(DataContractError, match=r"times_index 1\.\.5 exceeds the 5 time steps"):
        tidy_test(outputs_path, responses_path)


def test_process_writes_the_table_and_its_sidecar(one_test: tuple[Path, Path], tmp_path: Path) -> None:
    outputs_path, responses_path = one_test
    target = tmp_path / "out" / "X_tidy.csv"
    assert process_test(outputs_path, target, responses_path, chunksize=4) == 60
    assert len(pd.read_csv(target)) == 60 and sidecar_path(target).exists()
    assert not [path for path in target.parent.iterdir() if path.suffix == ".tmp"]


def test_experiment_columns_flatten_args_without_clobbering() -> None:
    columns = experiment_columns(
        {
            "model_name": "DyRCNNx4",
            "model_args": {"rctype": "full", "tsteps": 20},
            "seed": 1,
            "status": "trained",
            "data_args": {"contrast": 0.2, "tsteps": 30, "status": "x"},
            "dt": 2.0,
        }
    )
    assert columns == {
        "model_name": "DyRCNNx4",
        "seed": "1",
        "status": "trained",
        "dt": 2.0,
        "rctype": "full",
        "tsteps": 20,
        "contrast": 0.2,
        "data_tsteps": 30,
        "data_status": "x",
    }


def test_aggregate_keeps_every_row_and_column(make_test, tmp_path: Path) -> None:
    written = []
    for index, (rctype, contrast) in enumerate([("full", 0.1), ("self", 0.1), ("full", 0.9)]):
        outputs_path, _ = make_test(
            tmp_path, f"t{index}", model_args={"rctype": rctype}, data_args={"contrast": contrast}, seed=index
        )
        written.append(outputs_path)
    extra = pd.read_csv(written[2]).assign(extra_column=7)
    extra.to_csv(written[2], index=False)
    target = tmp_path / "experiment.csv"
    assert aggregate_tests(written, target, chunksize=4) == 45
    table = pd.read_csv(target)
    assert len(table) == 45
    assert list(table.columns[:3]) == ["model_name", "seed", "status"]
    assert {"rctype", "contrast", "extra_column", "guess_confidence"} <= set(table.columns)
    assert table.groupby(["rctype", "contrast"]).size().to_dict() == {
        ("full", 0.1): 15,
        ("full", 0.9): 15,
        ("self", 0.1): 15,
    }
    assert table["extra_column"].isna().sum() == 30
    original = pd.concat([pd.read_csv(path) for path in written], ignore_index=True)
    assert np.allclose(table["guess_confidence"], original["guess_confidence"])


def test_aggregate_checks_every_input_before_writing(make_test, tmp_path: Path) -> None:
    good, _ = make_test(tmp_path, "good")
    bad, _ = make_test(tmp_path, "bad")
    sidecar_path(bad).unlink()
    target = tmp_path / "experiment.csv"
    with pytest.raises(DataContractError, match=r"bad_test_outputs\.config\.yaml: sidecar config is missing"):
        aggregate_tests([good, bad], target)
    assert not target.exists()
    with pytest.raises(DataContractError, match="no input tables"):
        aggregate_tests([], target)


def test_summarise_table_streams_means_and_sems(tmp_path: Path) -> None:
    table = pd.DataFrame({"group": ["a"] * 4 + ["b"] * 2, "value": [1.0, 2.0, 3.0, 4.0, 10.0, 10.0]})
    path = tmp_path / "t.csv"
    table.to_csv(path, index=False)
    summary = summarise_table(path, ["group"], ["value"], chunksize=3).set_index("group")
    assert summary.loc["a", "value"] == pytest.approx(2.5)
    assert summary.loc["a", "value_sem"] == pytest.approx(table["value"][:4].sem())
    assert summary.loc["b", "value_sem"] == pytest.approx(0.0)
    with pytest.raises(DataContractError, match="missing columns nope"):
        summarise_table(path, ["nope"], ["value"])


def test_torch_stays_out_until_responses_are_read() -> None:
    import subprocess
    import sys

    code = "import sys, dynvision.viz.process, dynvision.viz.contract; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    assert torch is not None


def test_aggregate_pairs_responses_and_names_the_experiment(make_test, tmp_path: Path) -> None:
    inputs = []
    for index, contrast in enumerate([0.2, 0.8]):
        inputs += make_test(tmp_path, f"c{index}", data_args={"contrast": contrast, "tsteps": 5})
    target = tmp_path / "data.csv"
    assert aggregate_tests(inputs, target, experiment="contrast", parameter="contrast") == 2 * 3 * 5 * 4
    table = pd.read_csv(target)
    assert list(table.columns[:4]) == ["experiment", "model_name", "seed", "status"]
    assert table.groupby(["contrast", "area"]).size().tolist() == [15] * 8
    assert {"time_ms", "response_mean", "correct", "rctype", "tsteps"} <= set(table.columns)
    with pytest.raises(DataContractError, match="swept parameter 'noise' is in no sidecar"):
        aggregate_tests(inputs, target, parameter="noise")
    with pytest.raises(DataContractError, match="responses without a test-output table: c1"):
        aggregate_tests([inputs[0], inputs[1], inputs[3]], target)


def test_aggregate_accepts_processed_tables(one_test: tuple[Path, Path], tmp_path: Path) -> None:
    outputs_path, responses_path = one_test
    tidy = tmp_path / "X_tidy.csv"
    process_test(outputs_path, tidy, responses_path)
    target = tmp_path / "data.csv"
    assert aggregate_tests([tidy], target) == 60
    assert list(pd.read_csv(target).columns[-9:]) == list(pd.read_csv(tidy).columns)[-9:]


def test_aggregate_keeps_text_with_commas_quotes_and_line_breaks(make_test, tmp_path: Path) -> None:
    outputs_path, _ = make_test(tmp_path, "t", model_args={"rctype": "full", "note": 'a, "b"'})
    table = pd.read_csv(outputs_path)
    table["comment"] = ['line\nbreak, "quoted"' if index % 2 else "plain" for index in range(len(table))]
    table.to_csv(outputs_path, index=False)
    target = tmp_path / "data.csv"
    assert aggregate_tests([outputs_path], target, chunksize=4) == 15
    result = pd.read_csv(target)
    assert len(result) == 15 and set(result["note"]) == {'a, "b"'}
    assert result["comment"].tolist() == table["comment"].tolist()
