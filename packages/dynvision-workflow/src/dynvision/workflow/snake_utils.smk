"""Configuration, paths and helpers shared by every rule.

The four YAML files and the --config overrides are merged and validated here, before Snakemake
creates any job; a bad value stops the run with one line naming the valid choices.
"""

import shlex
import sys
from pathlib import Path


from dynvision.workflow.arguments import ARGS_PATTERN
from dynvision.workflow.config import ConfigError, load_config, use_data_config
from dynvision.workflow.environment import batch_size, progress_bar
from dynvision.workflow.names import TOKEN_PATTERN
from dynvision.workflow.paths import NAME_PATTERN, STATUS_PATTERN, SWITCH_OFF_PATTERN
from dynvision.workflow.targets import WorkflowPlan
from dynvision.workflow.validation import check_output_folders, validate_config

_overrides = {key: value for key, value in config.items() if key != "config_dir"}
try:
    _loaded = load_config(config.get("config_dir"), _overrides)
    # dynvision-data (here and in every job, which inherit the environment) reads the data groups and datasets
    # from the same config_data.yaml as the workflow.
    use_data_config(_loaded)
    # Jobs that Snakemake runs as their own process (on SLURM) skip the registry checks (and importing torch for
    # them): the main process has checked the same configuration before it submitted any job.
    _merged = validate_config(_loaded, registries=workflow.is_main_process)
    check_output_folders(_merged, Path.cwd())
except ConfigError as error:
    # One line and exit: a WorkflowError would wrap it in Snakemake's file-and-line frame.
    print(f"invalid configuration: {error}", file=sys.stderr)
    sys.exit(1)
config.clear()
config.update(_merged)

plan = WorkflowPlan(config)
project_paths = plan.paths
REQUESTED_EXPERIMENTS = plan.experiments() if "experiment" in _overrides else plan.all_experiments()


def command(name):
    """Our console command next to this Python, so rules work without an activated environment."""
    local = Path(sys.executable).parent / name
    return shlex.quote(str(local)) if local.exists() else name


DATA_CLI = command("dynvision-data")
WORKFLOW_CLI = command("dynvision-workflow")
VIZ_CLI = command("dynvision-viz")


def option(flag, value):
    """A command-line option, or nothing when the config leaves it unset (null)."""
    return "" if value is None else f"{flag} {shlex.quote(str(value))}"


def rule_resources(name):
    """Portable resources of a rule: config `resources.default` updated by `resources.<rule>`."""
    resources = config.get("resources") or {}
    return {"mem_mb": 2000, "runtime": 30, "threads": 1, "gpu": 0, **resources.get("default", {}), **resources.get(name, {})}


def scaled(name, key):
    """A resource that grows with each retry (Snakemake passes `attempt` to resource callables)."""
    base = rule_resources(name)[key]
    return lambda wildcards, attempt: base * attempt


NAME = NAME_PATTERN
ARGS = rf"(?:{ARGS_PATTERN}|{TOKEN_PATTERN})"


wildcard_constraints:
    model_name=NAME,
    model_args=ARGS,
    seed=r"[0-9]+",
    data_name=NAME,
    data_loader=NAME,
    data_args=ARGS,
    data_group=NAME,
    data_subset=rf"train_all|test_{NAME}",
    status=STATUS_PATTERN,
    switch_off=SWITCH_OFF_PATTERN,
    experiment=NAME,
    plot=NAME,
    sweep=NAME,
    token=TOKEN_PATTERN,
