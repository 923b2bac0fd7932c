"""Damaged files (truncated, empty, garbage, the wrong kind) are named in one line with how to rebuild them,
never read as good ones, and never followed by an output that looks complete."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .catalogue import REPO, assert_refused, files_in, run, testing_command, training_command

OUTPUTS_HEADER = "sample,time_step,label,prediction,correct,stimulus\n"


def truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def damage_model(kind: str, path: Path) -> None:
    """A model file cut in half, emptied, or replaced by text."""
    if kind == "truncated":
        truncate(path)
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        path.write_text("not a model\n")


MODEL_CASES = [
    (kind, command)
    for kind in ("truncated", "empty", "text")
    for command in (["dynvision-models", "info", "model.pt"], testing_command(), training_command())
]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("kind", "command"), MODEL_CASES, ids=[f"{kind}-{command[1]}" for kind, command in MODEL_CASES]
)
def test_damaged_model_file_is_named(workspace: Path, kind: str, command: list[str]) -> None:
    damage_model(kind, workspace / "model.pt")
    before = files_in(workspace)
    result = run(command, workspace)
    assert_refused(result, ("model.pt",), before, workspace)


TABLES = {
    "garbage": "\x00\x01garbage\xff\n",
    "empty": "",
    "header only": OUTPUTS_HEADER,
    "wrong columns": "a,b,c\n1,2,3\n",
    "cut mid-row": OUTPUTS_HEADER + "0,0,3,3,1,1\n0,1,3,",
}


@pytest.mark.integration
@pytest.mark.parametrize("kind", list(TABLES))
def test_damaged_test_outputs_are_named(workspace: Path, kind: str) -> None:
    table = workspace / "x_test_outputs.csv"
    table.write_bytes(TABLES[kind].encode("latin-1"))
    before = files_in(workspace)
    result = run(["dynvision-viz", "process", "-i", table.name, "-o", "tidy.csv"], workspace)
    assert_refused(result, ("x_test_outputs.csv",), before, workspace)


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["garbage", "wrong columns"])
def test_damaged_table_is_named_by_plot(workspace: Path, kind: str) -> None:
    table = workspace / "data.csv"
    table.write_bytes(TABLES[kind].encode("latin-1"))
    before = files_in(workspace)
    result = run(["dynvision-viz", "plot", "responses", "-i", "data.csv", "-o", "f.png"], workspace)
    assert_refused(result, ("data.csv",), before, workspace)


@pytest.mark.integration
def test_damaged_responses_are_named(workspace: Path) -> None:
    """Real test outputs, with their responses file replaced by garbage."""
    assert run(testing_command(), workspace).returncode == 0
    (workspace / "out" / "responses.pt").write_bytes(b"\x00" * 100)
    before = files_in(workspace)
    command = ["dynvision-viz", "process", "-i", "out/outputs.csv", "--responses", "out/responses.pt", "-o", "t.csv"]
    result = run(command, workspace)
    assert_refused(result, ("responses.pt",), before, workspace)


def own_dataset(project: Path, damage: str) -> Path:
    """A folder dataset of two classes with one damaged image, declared in config_data.yaml as ``mine``."""
    import numpy as np
    from PIL import Image

    folder = project / "mine"
    for split in ("train", "test"):
        for name in ("cat", "dog"):
            (folder / split / name).mkdir(parents=True)
            for index in range(3):
                pixels = np.full((16, 16, 3), 40 * index, dtype=np.uint8)
                Image.fromarray(pixels).save(folder / split / name / f"{index}.png")
    bad = folder / "train" / "dog" / "1.png"
    bad.write_bytes(b"" if damage == "empty" else b"this is text, not an image\n")
    with (project / "configs" / "config_data.yaml").open("a") as handle:
        handle.write(f"datasets:\n  mine:\n    path: {folder}\n    resolution: 16\n    channels: 3\n")
    return bad


@pytest.mark.integration
@pytest.mark.parametrize("damage", ["empty", "text"])
def test_damaged_image_of_own_dataset_is_named(project: Path, damage: str) -> None:
    """Getting the dataset (the workflow's first job) checks every image before anything is linked."""
    bad = own_dataset(project, damage)
    before = files_in(project)
    config = {"DYNVISION_DATA_CONFIG": str(project / "configs" / "config_data.yaml")}
    result = run(["dynvision-data", "get", "mine", "--quiet"], project, env=config)
    assert_refused(result, (str(bad.relative_to(project / "mine")),), before, project)


@pytest.fixture
def betons(tmp_path: Path) -> Path:
    """A data root of its own with the embedded dataset converted to .beton files."""
    pytest.importorskip("ffcv")
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    for command in (["dynvision-data", "get", "embedded", "--quiet"], ["dynvision-data", "convert", "embedded"]):
        assert run(command, tmp_path).returncode == 0
    run(["dynvision-models", "init", "DyRCNNx2", "-o", "model.pt", "-a", "tsteps=4"], tmp_path)
    return tmp_path


@pytest.mark.integration
@pytest.mark.slow
def test_truncated_beton_is_named(betons: Path) -> None:
    truncate(betons / "data" / "processed" / "embedded" / "train_all" / "train.beton")
    before = files_in(betons)
    result = run([*training_command(), "--ffcv"], betons)
    assert_refused(result, ("train.beton",), before, betons)


@pytest.mark.integration
def test_truncated_checkpoint_is_not_resumed_from(workspace: Path) -> None:
    """A half-written last.ckpt (a crash while it was written) is named, not taken for a good one."""
    checkpoints = workspace / "out" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "last.ckpt").write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    before = files_in(workspace)
    result = run(training_command(), workspace)
    assert_refused(result, ("last.ckpt",), before, workspace)
