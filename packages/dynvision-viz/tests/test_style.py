"""Palettes come from the packaged defaults, overridden by a project's config."""

from pathlib import Path

import pytest

from dynvision.viz.style import default_config_path, load_config, palette_for, stimulus_shade

ROOT = Path(__file__).resolve().parents[3]


def test_configured_values_keep_their_colour_and_others_get_fallbacks() -> None:
    config = load_config(default_config_path())
    colours = palette_for("rctype", ["self", "novel", "full"], config)
    assert colours["full"] == "#1b9e77" and colours["self"] == "#d95f02"
    assert colours["novel"].startswith("#") and colours["novel"] not in ("#1b9e77", "#d95f02")


def test_the_first_categorical_colours_are_far_apart() -> None:
    """A sweep of four variants (the ablation of two switches) must not get two near colours (orange, vermillion)."""
    import colorsys

    colours = list(palette_for("adapt", ["a", "b", "c", "d"], load_config(default_config_path())).values())
    hues = [360 * colorsys.rgb_to_hsv(*(int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)))[0] for c in colours]
    gaps = [min(abs(a - b), 360 - abs(a - b)) for i, a in enumerate(hues) for b in hues[:i]]
    assert min(gaps) > 30, (colours, hues)  # orange and vermillion are 13 degrees apart


def test_numeric_sweeps_get_a_sequential_ramp_in_order() -> None:
    colours = palette_for("contrast", [0.8, 0.1, 0.4], load_config(default_config_path()))
    assert list(colours) == [0.8, 0.1, 0.4]
    # darker for higher contrast on the sequential palette
    brightness = {value: sum(int(colour[i : i + 2], 16) for i in (1, 3, 5)) for value, colour in colours.items()}
    assert brightness[0.1] > brightness[0.4] > brightness[0.8]


def test_project_config_overrides_single_entries(tmp_path: Path) -> None:
    path = tmp_path / "config_visualization.yaml"
    path.write_text("palettes:\n  area:\n    V1: '#000000'\nstimulus_shade:\n  color: '#111111'\n  alpha: 0.5\n")
    config = load_config(path)
    assert config["palettes"]["area"]["V1"] == "#000000" and config["palettes"]["area"]["IT"] == "#8172b3"
    assert stimulus_shade(config)["color"] == "#111111"
    with pytest.raises(ValueError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_the_repository_config_is_valid() -> None:
    config = load_config(ROOT / "configs" / "config_visualization.yaml")
    assert {"rctype", "area", "model_name", "connection"} <= set(config["palettes"])
