"""Look of every DynVision figure: palettes from the visualization config and a paper-sized style context.

Styling lives in a context manager (never global rcParams), so importing this package or plotting with it
leaves the caller's matplotlib settings untouched; colours come from one config so a recurrence type, area or
model has the same colour in every figure of a project.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib import resources
from numbers import Real
from pathlib import Path
from typing import Any

import yaml

CONFIG_ENV = "DYNVISION_VIZ_CONFIG"
CONFIG_DIR_ENV = "DYNVISION_CONFIG_DIR"
CONFIG_NAME = "config_visualization.yaml"

PAPER_WIDTH = 7.0
"""Width in inches of a two-column figure in a journal; panels are sized from it."""


def _read_yaml(path: Path) -> dict[str, Any]:
    content = yaml.safe_load(path.read_text()) or {}
    if not isinstance(content, dict):
        raise ValueError(f"{path}: visualization config must be a mapping, got {type(content).__name__}")
    return content


def default_config_path() -> Path:
    """The packaged defaults, used as the base every project config overrides."""
    return Path(str(resources.files("dynvision.viz") / "config_visualization.yaml"))


def find_config(path: str | Path | None = None) -> Path | None:
    """The project config, in the order every DynVision package looks for its config file.

    ``path``, else ``$DYNVISION_VIZ_CONFIG``, else ``$DYNVISION_CONFIG_DIR/config_visualization.yaml``, else
    ``./configs/config_visualization.yaml``; None when there is none (the packaged defaults apply).
    """
    if path is not None:
        path = Path(path)
        if not path.exists():
            raise ValueError(f"visualization config {path} does not exist")
        return path
    if os.environ.get(CONFIG_ENV):
        return find_config(os.environ[CONFIG_ENV])
    folder = Path(os.environ.get(CONFIG_DIR_ENV) or "configs")
    return folder / CONFIG_NAME if (folder / CONFIG_NAME).is_file() else None


@lru_cache(maxsize=8)
def _load(path: Path | None) -> dict[str, Any]:
    config = _read_yaml(default_config_path())
    if path is not None:
        override = _read_yaml(path)
        for name, palette in (override.get("palettes") or {}).items():
            config["palettes"][name] = {**config["palettes"].get(name, {}), **palette}
        for key in ("fallback", "sequential", "stimulus_shade"):
            if key in override:
                config[key] = override[key]
    return config


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """Packaged defaults merged with the project config (see `find_config`)."""
    found = find_config(path)
    return _load(found.resolve() if found is not None else None)


def palette_for(column: str | None, values: Iterable[Any], config: dict[str, Any] | None = None) -> dict[Any, str]:
    """Colour per value of `column`: configured colours first, then the fallback palette for the rest."""
    import seaborn as sns

    config = config if config is not None else load_config()
    known = config["palettes"].get(column, {}) if column else {}
    values = list(dict.fromkeys(values))
    unknown = [value for value in values if str(value) not in known]
    numeric = len(unknown) > 2 and all(isinstance(value, Real) and not isinstance(value, bool) for value in unknown)
    if numeric:  # an ordered sweep (contrast, noise level) reads best on a sequential ramp
        unknown = sorted(unknown)
    name = config.get("sequential", "crest") if numeric else config.get("fallback", "colorblind")
    extra = sns.color_palette(name, max(len(unknown), 1)).as_hex()
    fill = dict(zip(unknown, extra, strict=False))
    return {value: known.get(str(value), fill.get(value)) for value in values}


def stimulus_shade(config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Keyword arguments for `ax.axvspan` that mark periods with a stimulus on screen."""
    config = config if config is not None else load_config()
    return {"color": "#f2c14e", "alpha": 0.18, "linewidth": 0, **config.get("stimulus_shade", {})}


@contextmanager
def figure_style(font_scale: float = 1.0) -> Iterator[None]:
    """Paper style for the figures built inside the block: white ticks, 8-9 pt text, thin lines."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    rc = {
        **sns.axes_style("ticks"),
        **sns.plotting_context("paper", font_scale=font_scale),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 9 * font_scale,
        "axes.labelsize": 9 * font_scale,
        "xtick.labelsize": 8 * font_scale,
        "ytick.labelsize": 8 * font_scale,
        "legend.fontsize": 8 * font_scale,
        "legend.title_fontsize": 8 * font_scale,
        "legend.frameon": False,
        "lines.linewidth": 1.4,
        "figure.dpi": 100,
        "savefig.dpi": 200,
        "savefig.bbox": "tight",
    }
    with plt.rc_context(rc):
        yield
