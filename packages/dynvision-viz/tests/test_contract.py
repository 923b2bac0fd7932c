"""Malformed test outputs stop with one clear error that names what is wrong."""

from pathlib import Path

import pandas as pd
import pytest
import torch

from dynvision.viz.contract import (
    OUTPUT_COLUMNS,
    DataContractError,
    load_responses,
    load_sidecar,
    read_test_outputs,
    sidecar_path,
)


def test_sidecar_sits_next_to_the_output() -> None:
    path = Path("reports/DyRCNNx4:rctype=full_0_embedded_trained_StimulusContrast:contrast=0.5_all_test_outputs.csv")
    assert sidecar_path(path).name == path.name.removesuffix(".csv") + ".config.yaml"


def test_valid_files_load(one_test: tuple[Path, Path]) -> None:
    outputs_path, responses_path = one_test
    outputs = read_test_outputs(outputs_path)
    assert list(outputs.columns) == list(OUTPUT_COLUMNS) and len(outputs) == 15
    responses = load_responses(responses_path)
    assert responses.areas == ["V1", "V2", "V4", "IT"] and responses.mean["V1"].shape == (3, 5)
    assert load_sidecar(outputs_path)["model_args"] == {"rctype": "full"}


def test_missing_column_is_named(one_test: tuple[Path, Path]) -> None:
    outputs_path, _ = one_test
    pd.read_csv(outputs_path).drop(columns=["guess_confidence"]).to_csv(outputs_path, index=False)
    with pytest.raises(DataContractError, match=r"missing required columns guess_confidence \(required: sample_index"):
        read_test_outputs(outputs_path)


def test_empty_file_and_header_only(tmp_path: Path) -> None:
    empty = tmp_path / "empty_test_outputs.csv"
    empty.write_text("")
    with pytest.raises(DataContractError, match="is empty"):
        read_test_outputs(empty)
    empty.write_text(",".join(OUTPUT_COLUMNS) + "\n")
    with pytest.raises(DataContractError, match="no rows"):
        read_test_outputs(empty)


def test_non_numeric_value_is_refused(one_test: tuple[Path, Path]) -> None:
    outputs_path, _ = one_test
    table = pd.read_csv(outputs_path).astype({"guess_index": object})
    table.loc[0, "guess_index"] = "cat"
    table.to_csv(outputs_path, index=False)
    with pytest.raises(DataContractError, match="non-numeric"):
        read_test_outputs(outputs_path)


def test_mismatched_response_shape_is_named(one_test: tuple[Path, Path]) -> None:
    _, responses_path = one_test
    data = torch.load(responses_path, weights_only=True)
    data["responses"]["V4"]["std"] = torch.zeros(3, 4).half()
    torch.save(data, responses_path)
    with pytest.raises(DataContractError, match=r"responses\['V4'\]\['std'\] has shape \(3, 4\), expected \(3, 5\)"):
        load_responses(responses_path)


def test_logits_and_areas_are_checked(one_test: tuple[Path, Path]) -> None:
    _, responses_path = one_test
    data = torch.load(responses_path, weights_only=True)
    torch.save({**data, "logits": torch.zeros(3, 6, 10)}, responses_path)
    with pytest.raises(DataContractError, match="logits shape"):
        load_responses(responses_path)
    torch.save({**data, "areas": ["V1"]}, responses_path)
    with pytest.raises(DataContractError, match="responses hold areas"):
        load_responses(responses_path)
    torch.save({key: value for key, value in data.items() if key != "dt"}, responses_path)
    with pytest.raises(DataContractError, match="missing keys dt"):
        load_responses(responses_path)


def test_empty_responses_file(tmp_path: Path) -> None:
    path = tmp_path / "X_test_responses.pt"
    path.write_bytes(b"")
    with pytest.raises(DataContractError, match="is empty"):
        load_responses(path)


def test_sidecar_problems(one_test: tuple[Path, Path]) -> None:
    outputs_path, _ = one_test
    sidecar_path(outputs_path).write_text("model_name: DyRCNNx4\nseed: '0'\n")
    with pytest.raises(DataContractError, match="sidecar lacks model_args, status, data_args"):
        load_sidecar(outputs_path)
    sidecar_path(outputs_path).unlink()
    with pytest.raises(DataContractError, match="sidecar config is missing"):
        load_sidecar(outputs_path)
    assert load_sidecar(outputs_path, required=False) == {}
