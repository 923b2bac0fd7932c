"""Every dynvision-models command, through typer's CliRunner."""

import pytest
import torch
from typer.testing import CliRunner

from dynvision.models.cli import app
from dynvision.models.grammar import parse_args
from dynvision.models.io import load_model_file

runner = CliRunner()


def test_list_names_every_model():
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    assert {"DyRCNNx2", "DyRCNNx4", "DyRCNNx8", "AlexNet", "CorNetRT", "ResNet18", "CordsNet"} <= set(
        result.output.split()
    )


def test_info_reports_areas_parameters_flops_and_first_responses():
    result = runner.invoke(app, ["info", "DyRCNNx4", "--args", "rctype=full+tff=4", "--args", "tsteps=5"])
    assert result.exit_code == 0, result.output
    assert "areas: V1, V2, V4, IT" in result.output
    assert "parameters: 1,142,879" in result.output  # bias-free convs
    assert "  V1: 2 (4 ms)" in result.output and "  IT: 8 (16 ms)" in result.output
    flops = float(result.output.split("forward): ")[1].split(" M")[0])
    # two convs per area on 32x32 input: about 110 MFLOP per step plus the read-out
    assert 100 < flops < 120


def test_info_without_recurrence_counts_only_the_feedforward_convs():
    full = runner.invoke(app, ["info", "DyRCNNx4"]).output
    none = runner.invoke(app, ["info", "DyRCNNx4", "-a", "rctype=none"]).output

    def flops(text):
        return float(text.split("forward): ")[1].split(" M")[0])

    assert flops(none) < flops(full) / 2


def test_init_writes_a_loadable_model(tmp_path):
    out = tmp_path / "m.pt"
    result = runner.invoke(app, ["init", "DyRCNNx2", "--args", ":rctype=self+tsteps=3", "--seed", "5", "-o", str(out)])
    assert result.exit_code == 0, result.output
    model, record = load_model_file(out)
    assert record["name"] == "DyRCNNx2" and record["seed"] == 5
    assert record["args"] == {"rctype": "self", "tsteps": 3}
    again = tmp_path / "again.pt"
    runner.invoke(app, ["init", "DyRCNNx2", "-a", "rctype=self", "-a", "tsteps=3", "--seed", "5", "-o", str(again)])
    same, _ = load_model_file(again)
    for a, b in zip(model.state_dict().values(), same.state_dict().values(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["info", "NoNet"], "model 'NoNet' is unknown; valid:"),
        (["info", "DyRCNNx4", "--args", "rctype=spiral"], "recurrence_type='spiral' is unknown"),
        (["init", "DyRCNNx4", "--args", "tau=-1", "-o", "x.pt"], "tau=-1 must be > 0 ms"),
        (["init", "DyRCNNx4", "--args", "rctype", "-o", "x.pt"], "is not of the form key=value"),
    ],
)
def test_bad_input_gives_one_error_line(argv, message):
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_argument_parsing_never_evaluates():
    assert parse_args(
        [
            "rctype=full+tsteps=20",
            "skip=true",
            "channels=4,9",
            "tau=7.5",
            "x=__import__('os')",
            "rctarget=null",
            "rctype=none",
        ]
    ) == {
        "tsteps": 20,
        "skip": True,
        "channels": (4, 9),
        "tau": 7.5,
        "x": "__import__('os')",
        "rctarget": None,
        "rctype": "none",
    }
