"""Load the workflow configuration: four YAML files merged in order, then ``--config`` overrides.

Order (later wins, dictionaries merge key by key): ``config_defaults.yaml``, ``config_data.yaml``,
``config_workflow.yaml``, ``config_experiments.yaml``, then the command line. Command-line values
may use the guide's Python-like syntax (see :mod:`dynvision.workflow.values`); they are parsed
without ``eval``.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from dynvision.workflow.values import ValueSyntaxError, normalize_override

CONFIG_FILES = ("config_defaults.yaml", "config_data.yaml", "config_workflow.yaml", "config_experiments.yaml")
CONFIG_DIR_ENV = "DYNVISION_CONFIG_DIR"
LIST_KEYS = ("experiment", "model_name", "seed", "data_name", "data_group")
"""Keys that may hold one value or a list of values to sweep over."""
SEED_DIGITS = 4


class ConfigError(ValueError):
    """The configuration cannot be used; the message is one line naming the bad value and the choices."""


def find_config_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The folder with the YAML files: ``explicit``, else ``$DYNVISION_CONFIG_DIR``, else ``./configs``."""
    folder = Path(explicit or os.environ.get(CONFIG_DIR_ENV) or "configs")
    if not (folder / CONFIG_FILES[0]).is_file():
        raise ConfigError(
            f"no {CONFIG_FILES[0]} in {folder.resolve()}: run from the repository root or set {CONFIG_DIR_ENV}"
        )
    return folder


def deep_merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``update`` into a copy of ``base``; nested dictionaries merge key by key."""
    merged = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def parse_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Parse ``--config`` values (raw strings or Snakemake's YAML guesses) into what the user meant."""
    parsed = {}
    for key, value in overrides.items():
        try:
            parsed[key] = normalize_override(value)
        except ValueSyntaxError as error:
            raise ConfigError(f"--config {key}: {error}") from None
    return parsed


def parse_assignments(assignments: list[str]) -> dict[str, Any]:
    """Parse ``key=value`` strings exactly as they are written after ``--config`` in the guide."""
    parsed = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--config entry {assignment!r} is not of the form key=value")
        parsed.update(parse_overrides({key.strip(): value}))
    return parsed


def format_seed(seed: Any) -> str:
    """Seeds are strings in file names; integers are zero-padded (``1`` -> ``0001``, as ``seed=0001``)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise ConfigError(f"seed {seed!r} is not a number such as 0001")
    if isinstance(seed, int):
        if seed < 0:
            raise ConfigError(f"seed {seed} is negative; seeds are whole numbers >= 0 such as 0001")
        return f"{seed:0{SEED_DIGITS}d}"
    if not seed.isdigit():
        raise ConfigError(f"seed {seed!r} is not a number such as 0001")
    return seed


def as_list(value: Any) -> list[Any]:
    """One value or a list of values, always as a list."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def normalize(config: dict[str, Any]) -> dict[str, Any]:
    """Bring the merged config into canonical form (seeds as strings, list keys may hold lists)."""
    config = dict(config)
    if "seed" in config:
        seeds = [format_seed(seed) for seed in as_list(config["seed"])]
        config["seed"] = seeds if isinstance(config["seed"], (list, tuple)) else seeds[0]
    if isinstance(config.get("precision"), int):
        config["precision"] = str(config["precision"])
    return config


def use_data_config(config: Mapping[str, Any]) -> None:
    """Point dynvision-data (this process and the jobs it starts) at the config_data.yaml of the workflow's config
    folder, unless the user chose one through ``$DYNVISION_DATA_CONFIG``."""
    from dynvision.data.data_config import CONFIG_NAME, DATA_CONFIG_ENV

    path = Path(config["config_dir"]) / CONFIG_NAME
    if path.is_file() and not os.environ.get(DATA_CONFIG_ENV):
        os.environ[DATA_CONFIG_ENV] = str(path)


def load_config(
    config_dir: str | os.PathLike | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Merge the four YAML files of ``config_dir`` and the command-line ``overrides``.

    Missing optional files (all but the defaults) are skipped, so a package can be used alone.
    """
    folder = find_config_dir(config_dir)
    config: dict[str, Any] = {}
    for name in CONFIG_FILES:
        path = folder / name
        if not path.is_file():
            continue
        try:
            content = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            problem = getattr(error, "problem", None) or str(error).splitlines()[0]
            raise ConfigError(f"{path} is not valid YAML{where}: {problem}") from None
        if not isinstance(content, dict):
            raise ConfigError(f"{path} must hold a mapping of keys to values")
        config = deep_merge(config, content)
    overrides = parse_overrides(overrides or {})
    for key, value in overrides.items():
        if value == {} and config.get(key):
            raise ConfigError(
                f"--config {key}={{}} changes nothing (mappings merge key by key into the config files' {key}); "
                f"set the keys to change, e.g. {key}={{name:value}}, or edit the config file"
            )
    config = deep_merge(config, overrides)
    config["config_dir"] = str(folder.resolve())
    return normalize(config)
