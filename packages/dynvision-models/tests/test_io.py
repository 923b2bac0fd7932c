"""Model files: atomic writes, weights-only loading, the record travels with the weights."""

import pytest
import torch

from dynvision.models import create_model
from dynvision.models.io import load_model_file, save_model_file


def test_save_and_load_round_trip(tmp_path):
    torch.manual_seed(0)
    args = {"rctype": "depthwise", "tsteps": 3, "skip": True, "channels": (4, 9, 16)}
    model = create_model("DyRCNNx4", **args)
    path = save_model_file(tmp_path / "sub" / "m.pt", model, name="DyRCNNx4", args=args, seed=7, extra={"epoch": 2})
    assert [p.name for p in path.parent.iterdir()] == ["m.pt"], "no temporary file is left behind"
    loaded, record = load_model_file(path)
    assert record == {"name": "DyRCNNx4", "args": args, "seed": 7, "extra": {"epoch": 2}}
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(model(x), loaded(x))
    torch.load(path, weights_only=True)


def test_output_and_input_sizes_travel_even_when_args_omit_them(tmp_path):
    model = create_model("DyRCNNx2", n_classes=7, input_channels=1, tsteps=2)
    path = save_model_file(tmp_path / "m.pt", model, name="DyRCNNx2", args={"tsteps": 2}, seed="0")
    loaded, record = load_model_file(path)
    assert (loaded.n_classes, loaded.input_channels) == (7, 1) and record["args"] == {"tsteps": 2}


def test_loading_refuses_foreign_files(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="not a dynvision model file"):
        load_model_file(path)


@pytest.mark.parametrize("damage", ["empty", "truncated", "text"])
def test_a_damaged_model_file_is_one_line_naming_it_and_how_to_rebuild_it(tmp_path, damage):
    path = save_model_file(tmp_path / "m.pt", create_model("DyRCNNx2", tsteps=2), name="DyRCNNx2", args={}, seed=0)
    content = path.read_bytes()
    path.write_bytes({"empty": b"", "truncated": content[: len(content) // 2], "text": b"not a model"}[damage])
    with pytest.raises(ValueError) as error:
        load_model_file(path)
    message = str(error.value)
    assert message.startswith(f"{path} is ") and "\n" not in message
    assert message.endswith("delete it and rerun what wrote it (the workflow rebuilds a missing model file)")


def test_a_failed_save_leaves_the_old_file(tmp_path, monkeypatch):
    model = create_model("DyRCNNx2", tsteps=2)
    path = save_model_file(tmp_path / "m.pt", model, name="DyRCNNx2", args={"tsteps": 2}, seed=0)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken)
    with pytest.raises(OSError, match="disk full"):
        save_model_file(path, model, name="DyRCNNx2", args={"tsteps": 3}, seed=1)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["m.pt"]
