"""Check a merged configuration before any job exists: keys, JSON schema, then every point of the sweep.

Every problem becomes one :class:`ConfigError` line naming the bad value, where it is and the valid
choices or range. The checks are the packages' own, run torch-free: the model's (every
:class:`dynvision.models.spec.Dynamics` check, on every point of the ``model_args`` sweep) and the
stimulus's (every point of each experiment's ``data_args``). Valid names come from the package
registries (models, datasets, groups, stimuli).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from dynvision.models import grammar, spec
from dynvision.workflow.arguments import ArgumentError, args_product, decode_args, model_args_canonical
from dynvision.workflow.config import ConfigError, as_list
from dynvision.workflow.controls import DEFAULT_STATUS, NO_SWITCH_OFF, status_refusal, switch_off_parts
from dynvision.workflow.paths import NAME_PATTERN
from dynvision.workflow.pretrained import PRETRAINED_STATUS, dataset_weights, records

SCHEMA_PATH = Path(__file__).parent / "schemas" / "config.schema.yaml"


def _schema(schema: Path = SCHEMA_PATH) -> dict[str, Any]:
    return yaml.safe_load(schema.read_text())


def check_keys(config: Mapping[str, Any], schema: dict[str, Any]) -> None:
    """Unknown keys, at the top and in each experiment, fail with the closest valid key."""
    valid = schema["properties"]
    for key in config:
        if key not in valid:
            raise ConfigError(
                f"unknown config key {key!r}{grammar.closest(key, valid)}; valid keys: {', '.join(valid)}"
            )
    entry = schema["properties"]["experiment_config"]["additionalProperties"]["properties"]
    for name, experiment in (config.get("experiment_config") or {}).items():
        for key in experiment if isinstance(experiment, dict) else ():
            if key not in entry:
                hint = grammar.closest(key, entry)
                raise ConfigError(f"experiment_config.{name}: unknown key {key!r}{hint}; valid: {', '.join(entry)}")


def validate_schema(config: dict[str, Any], schema: dict[str, Any]) -> None:
    """The most relevant schema violation as one line (where in the config, and what is wrong)."""
    import jsonschema

    validator = _strict_validator()(schema)
    best = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if best is not None:
        where = ".".join(str(part) for part in best.absolute_path) or "config"
        message = best.message if len(best.message) < 200 else best.message[:200] + "..."
        if isinstance(best.instance, float) and not math.isfinite(best.instance):
            message = f"{best.instance!r} must be a finite number"
        elif isinstance(best.instance, float) and best.instance.is_integer() and "integer" in str(best.validator_value):
            message = f"{best.instance!r} must be a whole number (write {int(best.instance)}, not {best.instance!r})"
        elif best.validator in ("anyOf", "oneOf"):
            message = f"{best.instance!r} must be {' or '.join(_describe(option) for option in best.validator_value)}"
        elif best.validator == "pattern" and isinstance(best.instance, str):
            several = ", several as a list: [a,b]" if "," in best.instance else ""
            message = f"{best.instance!r} must be one name of letters, digits, '.' and '-'{several}"
        raise ConfigError(f"config key {where}: {message}")


def _describe(schema: dict[str, Any]) -> str:
    """A schema alternative in words: ``auto``, ``an integer >= 1``, ``a name``, ``a list of names``."""
    if "const" in schema:
        return str(schema["const"])
    if "enum" in schema:
        return " or ".join(map(str, schema["enum"]))
    if "$ref" in schema or "type" not in schema:
        return "a name"
    kind = schema["type"]
    if isinstance(kind, list):
        return " or ".join(_describe({**schema, "type": one}) for one in kind)
    if kind == "array":
        return f"a list of {_describe(schema.get('items', {})).removeprefix('a ').removeprefix('an ')}s"
    if kind == "object":
        return "a mapping such as {key:value}"
    if kind == "string" and schema.get("pattern") == "^[0-9]+$":
        return "digits such as 0001"
    if kind == "string":
        return "a name" if "pattern" in schema else "a string"
    bound = f" >= {schema['minimum']}" if "minimum" in schema else ""
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}{bound}"


@functools.cache
def _strict_validator() -> Any:
    """The schema's validator with integers that are ints and numbers that are finite: jsonschema counts 32.0 as
    an integer (which the commands would read as a float or truncate) and inf or nan as numbers."""
    import jsonschema

    checker = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine_many(
        {
            "integer": lambda _, value: isinstance(value, int) and not isinstance(value, bool),
            "number": lambda _, value: (
                isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            ),
        }
    )
    return jsonschema.validators.extend(jsonschema.Draft202012Validator, type_checker=checker)


def _check(kind: str, values: Iterable[Any], valid: Iterable[str]) -> None:
    valid = sorted(set(valid))
    for value in values:
        if value not in valid:
            hint = grammar.closest(str(value), valid)
            raise ConfigError(f"unknown {kind} {value!r}; valid choices: {', '.join(valid)}{hint}")


def _models(names: list[str]) -> Iterable[str]:
    """The built-in models when ``names`` are all among them (no torch needed), else every registered one."""
    if set(names) <= set(spec.BUILTIN_MODELS):
        return spec.BUILTIN_MODELS
    from dynvision.models import list_models

    return list_models()


def _datasets() -> Iterable[str]:
    from dynvision.data.registry import list_datasets

    return list_datasets()


def _check_dataset_entries(names: list[str]) -> None:
    """A dataset of config_data.yaml is described correctly and its folder is in order (dynvision-data checks)."""
    from dynvision.data.registry import get_dataset_info

    for name in names:
        try:
            get_dataset_info(str(name))
        except ValueError as error:
            raise ConfigError(str(error)) from None


def _stimuli() -> Iterable[str]:
    from dynvision.data.stimuli import list_stimuli

    return list_stimuli()


def _check_groups(config: dict[str, Any]) -> None:
    """Every test group must be defined for every dataset (``all`` always is), and every group of the dataset
    must list only classes it has (where its class names are known before it is downloaded)."""
    from dynvision.data.groups import list_groups, resolve_group

    config_data = Path(config.get("config_dir", "configs")) / "config_data.yaml"
    config_path = config_data if config_data.exists() else None
    for data_name in as_list(config["data_name"]):
        valid = list_groups(data_name, config_path=config_path)
        _check(f"data_group of {data_name}", as_list(config["data_group"]), valid)
        for group in valid:
            try:
                resolve_group(data_name, group, config_path, config.get("data_root"))
            except FileNotFoundError:
                break  # classes defined by folders not there yet: `get_data` checks them
            except ValueError as error:
                raise ConfigError(f"{config_data.name}: {error}") from None


def check_strategy(config: dict[str, Any]) -> None:
    """The Lightning strategy must be one Lightning knows (its registry is read only for a rarer one)."""
    if config["strategy"] not in ("auto", "ddp"):
        from dynvision.models.training import strategy_names

        _check("strategy", [config["strategy"]], strategy_names())


def check_parameters(config: dict[str, Any]) -> None:
    """Each experiment's ``parameter`` must be a column its tests will have: one of its data arguments (or
    model arguments, or a column every test has)."""
    from dynvision.viz.process import FRONT_COLUMNS

    model_keys = list(config.get("model_args") or {}) if isinstance(config.get("model_args"), dict) else []
    for name, experiment in config["experiment_config"].items():
        parameter = experiment.get("parameter")
        if not parameter:
            continue
        data_args = experiment.get("data_args") or {}
        valid = [*(data_args if isinstance(data_args, dict) else ()), *model_keys, *FRONT_COLUMNS, "switch_off"]
        if parameter not in valid:
            raise ConfigError(
                f"experiment_config.{name}.parameter: {parameter!r} is none of the experiment's arguments"
                f"{grammar.closest(str(parameter), valid)}; valid: {', '.join(dict.fromkeys(valid))}"
            )


def check_experiment_controls(config: dict[str, Any]) -> None:
    """Every experiment's statuses must be model files training writes (``epoch=N``: N up to ``epochs``), and
    its switch_off settings name known parts."""
    for name, experiment in config["experiment_config"].items():
        for status in as_list(experiment.get("status", DEFAULT_STATUS)):
            reason = status_refusal(str(status), config["epochs"])
            if reason:
                raise ConfigError(f"experiment_config.{name}.status: {reason}")
        for setting in as_list(experiment.get("switch_off", NO_SWITCH_OFF)):
            try:
                switch_off_parts(str(setting))
            except ValueError as error:
                raise ConfigError(f"experiment_config.{name}.switch_off: {error}") from None


def check_weights(config: dict[str, Any]) -> None:
    """The weights registry must be readable, and a ``pretrained`` status needs weights of every model trained on
    every dataset of the run."""
    try:
        records(config["weights_registry"])
    except ValueError as error:
        raise ConfigError(f"weights_registry: {error}") from None
    tested = {str(s) for e in config["experiment_config"].values() for s in as_list(e.get("status", DEFAULT_STATUS))}
    if PRETRAINED_STATUS not in tested:
        return
    for model_name in as_list(config["model_name"]):
        for data_name in as_list(config["data_name"]):
            if dataset_weights(config["weights_registry"], model_name, data_name) is None:
                raise ConfigError(
                    f"status {PRETRAINED_STATUS}: {model_name} has no weights trained on {data_name} in "
                    f"{config['weights_registry']}; add them with dynvision-models register-weights"
                )


def check_plots(config: dict[str, Any]) -> None:
    """Every plot of every experiment must be a dynvision-viz plot."""
    from dynvision.viz.plots import PLOTS

    _check("plot in plots", config["plots"], PLOTS)
    for name, experiment in config["experiment_config"].items():
        _check(f"plot in experiment_config.{name}.plots", experiment.get("plots", []), PLOTS)


def point_text(encoded: str) -> str:
    """A point of a sweep as the user writes it: ``{rctype: full, tau: -1}``."""
    return "{" + ", ".join(f"{key}: {grammar.format_value(value)}" for key, value in decode_args(encoded).items()) + "}"


def check_model_args(config: dict[str, Any], *, registries: bool) -> tuple[tuple[int, str], set[float]]:
    """Every model of the sweep must accept every point of ``model_args``, with every dynamics check passing,
    and a built-in model's last area must respond within its trial (``tsteps``).

    Built-in models are checked without torch; other registered models (``registries``) name their keywords
    through the registry, and their dynamics are checked the same way. Returns the latest first-response
    step of a built-in model's last area over the sweep with the model and point it belongs to, and the
    time steps ``dt`` of the sweep (protocols in ms are checked in frames of each).
    """
    points = sweep_args(config.get("model_args") or {}, "model_args", canonical=True)
    latest, dts = (0, ""), set()
    for model_name in as_list(config["model_name"]):
        valid = spec.builtin_arguments(model_name)
        if valid is None:
            if not registries:
                continue
            from dynvision.models.registry import model_arguments

            valid = model_arguments(model_name)
        for encoded in points:
            where = f"model_args of {model_name} at the sweep point {point_text(encoded)}"
            arguments = decode_args(encoded)
            try:
                dynamics = spec.model_dynamics(model_name, arguments, valid=valid)
            except ValueError as error:
                raise ConfigError(f"{where}: {short_name_first(str(error).splitlines()[0])}") from None
            dts.add(dynamics.dt)
            entry = spec.BUILTIN_MODELS.get(model_name)
            if entry is None:
                continue
            kwargs = spec.map_arguments(model_name, arguments, valid)
            n_areas = entry.n_areas(kwargs, dynamics)
            refusal = spec.late_response_refusal(dynamics, n_areas, entry.input_skips)
            if refusal:
                raise ConfigError(f"{where}: {refusal}")
            last = spec.first_response_steps(dynamics, n_areas, entry.input_skips)[-1]
            latest = max(latest, (last, f"{model_name} at {point_text(encoded)}"))
    return latest, dts


def short_name_first(message: str) -> str:
    """A model's message about ``n_timesteps=-3`` as the sweep point shows it: ``tsteps=-3``."""
    name, sep, rest = message.partition("=")
    return f"{spec.SHORT_NAMES.get(name, name)}{sep}{rest}"


def check_data_args(
    config: dict[str, Any], experiments: list[str], latest: tuple[int, str] = (0, ""), dts: Iterable[float] = ()
) -> None:
    """Every stimulus must accept every point of its experiment's ``data_args`` (the data package says why not)
    in frames of every ``dt`` of the sweep, and show its first frame early enough for the model's last area
    to respond (``latest``: its first-response step, from :func:`check_model_args`) before the protocol ends."""
    from dynvision.data.stimuli import create_stimulus
    from dynvision.workflow.targets import WorkflowPlan

    plan = WorkflowPlan(config)
    for name in experiments:
        settings = plan.experiment(name)
        for encoded in sweep_args(settings["data_args"], f"data_args of experiment {name}"):
            where = f"data_args of experiment {name} at the sweep point {point_text(encoded)}"
            for dt in sorted(dts) or [None]:
                try:
                    stimulus = create_stimulus(settings["data_loader"], dt=dt, **decode_args(encoded))
                except ValueError as error:
                    raise ConfigError(f"{where}: {str(error).splitlines()[0]}") from None
                presentation = stimulus.presentation()
                onset = presentation.index(True) if True in presentation else 0
                if onset + latest[0] >= len(presentation):
                    raise ConfigError(
                        f"{where}: the protocol's {len(presentation)} frames end before the last area of "
                        f"{latest[1]} responds (step {onset + latest[0]}: onset {onset} + {latest[0]}); raise tsteps"
                    )


def sweep_args(args: Any, what: str, *, canonical: bool = False) -> list[str]:
    """Encoded argument strings of a mapping or string (model arguments canonical), or one ConfigError line."""
    try:
        return args_product(args, model_args_canonical if canonical else None)
    except ArgumentError as error:
        raise ConfigError(f"{what}: {error}") from None


OUTPUT_FOLDERS = ("models_dir", "reports_dir", "logs_dir")


def check_output_folders(config: Mapping[str, Any], project: Path) -> None:
    """Outputs stay inside the project folder (the workflow's working directory) unless
    ``outputs_outside_project`` allows otherwise: a mistyped ``../..`` must not scatter files elsewhere."""
    if config.get("outputs_outside_project"):
        return
    root = project.resolve()
    for key in OUTPUT_FOLDERS:
        folder = (root / str(config[key])).resolve()
        if not folder.is_relative_to(root):
            raise ConfigError(
                f"config key {key}: {config[key]!r} lies outside the project folder {root}; use a folder inside it "
                "or set outputs_outside_project=true"
            )


def validate_config(config: dict[str, Any], *, registries: bool = True) -> dict[str, Any]:
    """Validate ``config`` and return it.

    Args:
        config: The merged configuration of :func:`dynvision.workflow.config.load_config`.
        registries: Also check names against the installed packages' registries (a third-party model
            imports torch). Off inside cluster jobs: the main process has checked the same configuration.
    """
    schema = _schema()
    for key in ("model_args", "data_args"):
        if isinstance(config.get(key), str):
            sweep_args(config[key], key)
    check_keys(config, schema)
    validate_schema(config, schema)
    experiments = config["experiment_config"]
    for name in experiments:
        if not re.fullmatch(NAME_PATTERN, str(name)):
            raise ConfigError(f"experiment name {name!r} is not a file-name part: use letters, digits, '.' and '-'")
    _check("experiment", as_list(config["experiment"]), experiments)
    check_experiment_controls(config)
    check_weights(config)
    check_parameters(config)
    check_plots(config)
    for name, experiment in experiments.items():
        data_args = experiment.get("data_args") or {}
        if isinstance(data_args, dict) and isinstance(config.get("data_args"), dict):
            data_args = {**data_args, **config["data_args"]}
        sweep_args(data_args, f"data_args of experiment {name}")
    if registries:
        _check("model", as_list(config["model_name"]), _models(as_list(config["model_name"])))
    latest, dts = check_model_args(config, registries=registries)
    if registries:
        _check("dataset", as_list(config["data_name"]), _datasets())
        _check_dataset_entries(as_list(config["data_name"]))
        _check("data loader", [experiments[name]["data_loader"] for name in as_list(config["experiment"])], _stimuli())
        check_data_args(config, as_list(config["experiment"]), latest, dts)
        _check_groups(config)
        check_strategy(config)
    return config
