"""Check a merged configuration before any job exists: JSON schema first, then the registries.

Every problem becomes one :class:`ConfigError` line naming the bad value and the valid choices.
Valid names come from the package registries (models, datasets, groups, stimuli) when those
packages can be imported, else from the ``choices`` section of the config.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from dynvision.workflow.arguments import ArgumentError, args_product, decode_args
from dynvision.workflow.config import ConfigError, as_list

SCHEMA_PATH = Path(__file__).parent / "schemas" / "config.schema.yaml"


def _schema_message(config: dict[str, Any], schema: Path) -> str | None:
    """The most relevant schema violation as one line (where in the config, and what is wrong)."""
    import jsonschema
    import yaml

    validator = jsonschema.Draft202012Validator(yaml.safe_load(schema.read_text()))
    best = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if best is None:
        return None
    where = ".".join(str(part) for part in best.absolute_path) or "config"
    message = best.message if len(best.message) < 200 else best.message[:200] + "..."
    return f"config key {where}: {message}"


def validate_schema(config: dict[str, Any], schema: Path = SCHEMA_PATH) -> None:
    """Validate against the schema, then let ``snakemake.utils.validate`` fill in its defaults."""
    from snakemake.utils import validate

    message = _schema_message(config, schema)
    if message:
        raise ConfigError(message)
    validate(config, str(schema))


def _check(kind: str, values: Iterable[Any], valid: Iterable[str] | None) -> None:
    if valid is None:
        return
    valid = sorted(set(valid))
    for value in values:
        if value not in valid:
            raise ConfigError(f"unknown {kind} {value!r}; valid choices: {', '.join(valid)}")


def _registry(import_list: Callable[[], Iterable[str]]) -> list[str] | None:
    """Names from a registry, or None when its package is not installed."""
    try:
        return list(import_list())
    except ImportError:
        return None


def _models(names: list[str]) -> Iterable[str]:
    """The built-in models when ``names`` are all among them (no torch needed), else every registered one."""
    from dynvision.models.spec import BUILTIN_MODELS

    if set(names) <= set(BUILTIN_MODELS):
        return BUILTIN_MODELS
    from dynvision.models import list_models

    return list_models()


def _datasets() -> Iterable[str]:
    from dynvision.data.registry import list_datasets

    return list_datasets()


def _stimuli() -> Iterable[str]:
    from dynvision.data.stimuli import list_stimuli

    return list_stimuli()


def _recurrence_types() -> Iterable[str]:
    from dynvision.models.spec import RECURRENCE_TYPES

    return RECURRENCE_TYPES


def _check_groups(config: dict[str, Any]) -> None:
    """Every test group must be defined for every dataset (``all`` always is)."""
    try:
        from dynvision.data.groups import list_groups
    except ImportError:
        return
    config_data = Path(config.get("config_dir", "configs")) / "config_data.yaml"
    for data_name in as_list(config["data_name"]):
        valid = list_groups(data_name, config_path=config_data if config_data.exists() else None)
        _check(f"data_group of {data_name}", as_list(config["data_group"]), valid)


def _check_model_args(config: dict[str, Any]) -> None:
    """Every model must accept every argument of the sweep (the catalogue, or for other models the registry,
    names the valid ones)."""
    try:
        from dynvision.models.spec import builtin_arguments, map_arguments
    except ImportError:
        return
    for model_name in as_list(config["model_name"]):
        valid = builtin_arguments(model_name)
        if valid is None:
            from dynvision.models.registry import model_arguments

            valid = model_arguments(model_name)
        for args in model_args_dicts(config):
            try:
                map_arguments(model_name, args, valid)
            except ValueError as error:
                raise ConfigError(f"model_args of {model_name}: {str(error).splitlines()[0]}") from None


def _check_data_args(config: dict[str, Any], experiments: list[str]) -> None:
    """Every stimulus must accept every argument combination of its experiment (the data package says why not)."""
    try:
        from dynvision.data.stimuli import create_stimulus
    except ImportError:
        return
    from dynvision.workflow.targets import WorkflowPlan

    plan = WorkflowPlan(config)
    for name in experiments:
        settings = plan.experiment(name)
        for encoded in sweep_args(settings["data_args"], f"data_args of experiment {name}"):
            try:
                create_stimulus(settings["data_loader"], **decode_args(encoded))
            except ValueError as error:
                raise ConfigError(f"data_args of experiment {name}: {str(error).splitlines()[0]}") from None


def sweep_args(args: Any, what: str) -> list[str]:
    """Encoded argument strings of a mapping or string, as a one-line ConfigError when malformed."""
    try:
        if isinstance(args, str):
            decode_args(args)
        return args_product(args)
    except ArgumentError as error:
        raise ConfigError(f"{what}: {error}") from None


def model_args_dicts(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Every model argument combination of the sweep as a dict."""
    return [decode_args(encoded) for encoded in sweep_args(config.get("model_args") or {}, "model_args")]


def validate_config(config: dict[str, Any], *, registries: bool = True) -> dict[str, Any]:
    """Validate ``config`` in place (schema defaults filled in) and return it.

    Args:
        config: The merged configuration of :func:`dynvision.workflow.config.load_config`.
        registries: Also check names against the installed packages' registries (imports torch).
    """
    for key in ("model_args", "data_args"):
        if isinstance(config.get(key), str):
            sweep_args(config[key], key)
    validate_schema(config)
    experiments = config["experiment_config"]
    _check("experiment", as_list(config["experiment"]), experiments)
    for name, experiment in experiments.items():
        data_args = experiment.get("data_args") or {}
        if isinstance(data_args, dict) and isinstance(config.get("data_args"), dict):
            data_args = {**data_args, **config["data_args"]}
        sweep_args(data_args, f"data_args of experiment {name}")
    choices = config.get("choices") or {}
    rctypes = [args["rctype"] for args in model_args_dicts(config) if "rctype" in args]
    if registries:
        models = as_list(config["model_name"])
        _check("model", models, _registry(lambda: _models(models)) or choices.get("model_name"))
        _check("recurrence type (rctype)", rctypes, _registry(_recurrence_types) or choices.get("rctype"))
        _check_model_args(config)
        _check("dataset", as_list(config["data_name"]), _registry(_datasets) or choices.get("data_name"))
        loaders = [experiments[name]["data_loader"] for name in as_list(config["experiment"])]
        _check("data loader", loaders, _registry(_stimuli) or choices.get("data_loader"))
        _check_data_args(config, as_list(config["experiment"]))
        _check_groups(config)
    else:
        _check("recurrence type (rctype)", rctypes, choices.get("rctype"))
    return config
