"""Every dynvision-data command through typer's CliRunner."""

import os

import pytest
from PIL import Image
from typer.testing import CliRunner

from dynvision.data.cli import app, parse_stimulus_args

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_version_and_help():
    assert "dynvision-data 0." in invoke("--version").output
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("list", "get", "link", "convert", "groups", "info", "preview"):
        assert command in result.output


def test_list_shows_datasets_and_loaders():
    result = invoke("list")
    assert result.exit_code == 0
    assert "embedded" in result.output and "(default)" in result.output
    assert "StimulusNoise" in result.output


def test_info(embedded_root):
    result = invoke("info", "cifar10", "--data-root", embedded_root)
    assert result.exit_code == 0
    assert "c58f30108f718f92721af3b95e74349a" in result.output and "missing" in result.output
    assert "present" in invoke("info", "embedded", "--data-root", embedded_root).output


def test_get_embedded_is_idempotent(embedded_root):
    result = invoke("get", "embedded", "--data-root", embedded_root, "--quiet")
    assert result.exit_code == 0
    assert str(embedded_root / "raw" / "embedded") in result.output


def test_link_and_groups(embedded_root):
    result = invoke("link", "embedded", "--subset", "test_gratings", "--data-root", embedded_root)
    assert result.exit_code == 0, result.output
    assert "3 classes linked" in result.output
    links = sorted(p.name for p in (embedded_root / "interim/embedded/test_gratings").iterdir() if p.is_symlink())
    assert links == ["grating_diagonal", "grating_horizontal", "grating_vertical"]
    result = invoke("groups", "embedded")
    assert "gratings: 5:grating_horizontal, 6:grating_vertical, 7:grating_diagonal" in result.output


def test_bad_input_is_one_error_line(tmp_path):
    result = invoke("link", "embedded", "--subset", "test_nope", "--data-root", tmp_path)
    assert result.exit_code == 1
    assert "Error: unknown data group 'nope' for 'embedded'; valid choices: all, shapes" in result.output
    result = invoke("get", "imagenet", "--data-root", tmp_path)
    assert result.exit_code == 1 and "--source" in result.output
    result = invoke("preview", "StimulusFlash", "-o", tmp_path / "x.png")
    assert result.exit_code == 1 and "valid choices: StimulusBlur, StimulusContrast" in result.output
    assert not (tmp_path / "x.png").exists()


def test_preview_writes_a_strip(tmp_path):
    out = tmp_path / "strip.png"
    result = invoke("preview", "StimulusDuration", "--args", "tsteps=6+intro=1", "--args", "stim=3", "-o", out)
    assert result.exit_code == 0, result.output
    with Image.open(out) as image:
        width, height = image.size
    assert width == 6 * (32 * 3 + 4) + 4  # six frames side by side
    assert height > 32 * 3
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]


def test_parse_stimulus_args():
    assert parse_stimulus_args(["tsteps=5+stim=2", "ssnr=0.5"]) == {"tsteps": "5", "stim": "2", "ssnr": "0.5"}
    with pytest.raises(ValueError, match="not of the form key=value"):
        parse_stimulus_args(["tsteps"])


@pytest.mark.slow
def test_convert_writes_both_betons(tmp_path):
    pytest.importorskip("ffcv")
    from dynvision.data.get import get_data

    get_data("embedded", tmp_path, progress=False, embedded_options={"n_train_per_class": 4, "n_test_per_class": 1})
    result = invoke("convert", "embedded", "--data-root", tmp_path, "--ratio", "0.75", "--seed", "1")
    assert result.exit_code == 0, result.output
    processed = tmp_path / "processed/embedded/train_all"
    assert (processed / "train.beton").stat().st_size > 0 and (processed / "val.beton").stat().st_size > 0
    result = invoke("convert", "embedded", "--data-root", tmp_path, "--write-mode", "png")
    assert result.exit_code == 1 and "valid choices: raw, jpg, smart" in result.output
