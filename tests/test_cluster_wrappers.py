"""The SLURM profile and the snakecharm wrappers, checked without a SLURM cluster.

A stand-in `snakemake` (a script in a fake virtual environment) records the arguments and environment it
receives, so the wrappers' pass-through, environment activation, lock handling and log paths are
observable in a fraction of a second.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLUSTER = ROOT / "cluster"
PROFILE = CLUSTER / "profiles" / "slurm" / "config.yaml"
SITE_VARIABLES = [
    "DYNVISION_SLURM_ACCOUNT",
    "DYNVISION_SLURM_CPU_PARTITION",
    "DYNVISION_SLURM_GPU_PARTITION",
    "DYNVISION_SLURM_TRAIN_GPUS",
    "DYNVISION_SLURM_TEST_GPUS",
    "DYNVISION_SLURM_GPU_MODEL",
    "DYNVISION_SLURM_STATUS_COMMAND",
    "DYNVISION_MODULES",
    "DYNVISION_CONDA_ENV",
    "DYNVISION_VENV",
]

FAKE_SNAKEMAKE = """#!/usr/bin/env bash
# Stand-in for snakemake: record one call (arguments one per line, then a separator) and the environment.
printf '%s\\n' "$@" >>"$FAKE_CALLS"
echo --- >>"$FAKE_CALLS"
env >"$FAKE_ENV"
echo "fake snakemake ran with $# arguments"
exit "${FAKE_EXIT:-0}"
"""


def site_defaults() -> dict[str, str]:
    """The site values cluster/site.env sets when the environment sets none."""
    clean = {key: value for key, value in os.environ.items() if key not in SITE_VARIABLES}
    script = f"set -a; . {CLUSTER / 'site.env'}; env -0"
    out = subprocess.run(["bash", "-c", script], env=clean, check=True, capture_output=True, text=True).stdout
    pairs = (item.split("=", 1) for item in out.split("\0") if "=" in item)
    return {key: value for key, value in pairs if key in SITE_VARIABLES}


def render_profile(**site: str) -> dict[str, object]:
    """The profile as Snakemake reads it, with the site defaults overridden by `site`."""
    from snakemake.profiles import ProfileConfigFileParser

    values = {**site_defaults(), **site}
    saved = {key: os.environ.get(key) for key in SITE_VARIABLES}
    os.environ.update(values)
    try:
        with PROFILE.open() as stream:
            return dict(ProfileConfigFileParser().parse(stream))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A workflow root with a fake virtual environment whose only program is the stand-in snakemake."""
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "activate").write_text(f'export PATH="{venv_bin}:$PATH"\n')
    fake = venv_bin / "snakemake"
    fake.write_text(FAKE_SNAKEMAKE)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    root = tmp_path / "workflow"
    root.mkdir()
    return root


def charm(workdir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run cluster/snakecharm.sh in `workdir` with the fake environment activated through DYNVISION_VENV."""
    base = {key: value for key, value in os.environ.items() if key not in SITE_VARIABLES}
    base.update(
        DYNVISION_VENV=str(workdir.parent / "venv"),
        FAKE_CALLS=str(workdir.parent / "calls.txt"),
        FAKE_ENV=str(workdir.parent / "env.txt"),
        PATH="/usr/bin:/bin",
    )
    base.update(env)
    return subprocess.run(
        [str(CLUSTER / "snakecharm.sh"), *args], cwd=workdir, env=base, capture_output=True, text=True, timeout=60
    )


def calls(workdir: Path) -> list[list[str]]:
    """The argument lists of every call of the stand-in snakemake, in order."""
    path = workdir.parent / "calls.txt"
    if not path.exists():
        return []
    return [block.strip("\n").split("\n") for block in path.read_text().split("---\n") if block.strip()]


def test_profile_sends_train_and_test_to_the_gpu_partition_with_one_gpu() -> None:
    profile = render_profile()
    assert profile["executor"] == "slurm"
    assert set(profile["set-resources"]) == {
        "train_model:slurm_partition='gpu'",
        "train_model:gpu=1",
        "test_model:slurm_partition='gpu'",
        "test_model:gpu=1",
    }
    assert "slurm_partition='cpu'" in profile["default-resources"]


def test_profile_keeps_the_run_robust_and_its_logs() -> None:
    profile = render_profile()
    assert int(profile["retries"]) >= 1 and int(profile["latency-wait"]) > 0 and int(profile["jobs"]) > 0
    for flag in ["keep-going", "rerun-incomplete", "slurm-keep-successful-logs"]:
        assert profile[flag] == "True", flag
    assert profile["slurm-logdir"] == "logs/slurm"
    assert profile["slurm-status-command"] == "sacct"


def test_profile_never_fixes_memory_or_time_of_train_and_test() -> None:
    """The workflow's rules make mem_mb and runtime grow with attempt; a constant here would replace that."""
    for entry in render_profile(DYNVISION_SLURM_TRAIN_GPUS="4")["set-resources"]:
        assert not re.match(r"\w+:(mem_mb|mem_mb_per_cpu|mem|runtime)=", entry), entry


def test_profile_default_memory_and_time_grow_with_attempt() -> None:
    defaults = render_profile()["default-resources"]
    assert "mem_mb=2000*attempt" in defaults and "runtime=30*attempt" in defaults


def test_profile_takes_every_site_value_from_the_environment() -> None:
    profile = render_profile(
        DYNVISION_SLURM_ACCOUNT="lab42",
        DYNVISION_SLURM_CPU_PARTITION="short",
        DYNVISION_SLURM_GPU_PARTITION="a100q",
        DYNVISION_SLURM_TEST_GPUS="0",
        DYNVISION_SLURM_GPU_MODEL="a100",
        DYNVISION_SLURM_STATUS_COMMAND="squeue",
    )
    assert {"slurm_account='lab42'", "slurm_partition='short'"} <= set(profile["default-resources"])
    assert {
        "train_model:slurm_partition='a100q'",
        "train_model:gpu_model='a100'",
        "test_model:gpu=0",
    } <= set(profile["set-resources"])
    assert profile["slurm-status-command"] == "squeue"


def test_profile_runs_multi_gpu_training_as_one_srun_task_per_gpu() -> None:
    resources = set(render_profile(DYNVISION_SLURM_TRAIN_GPUS="4")["set-resources"])
    assert {
        "train_model:gpu=4",
        "train_model:nodes=1",
        "train_model:tasks_per_node=4",
        "train_model:mpi='srun --nodes=1 --ntasks-per-node=4'",
    } <= resources
    assert not any(entry.startswith("test_model:mpi") for entry in resources)
    assert not any("mpi" in entry for entry in render_profile()["set-resources"])


def test_profile_without_site_values_names_the_missing_one() -> None:
    from configargparse import ConfigFileParserException
    from snakemake.profiles import ProfileConfigFileParser

    saved = {key: os.environ.pop(key) for key in SITE_VARIABLES if key in os.environ}
    try:
        with PROFILE.open() as stream, pytest.raises(ConfigFileParserException, match=r"site\.env"):
            ProfileConfigFileParser().parse(stream)
    finally:
        os.environ.update(saved)


def test_profile_rejects_a_gpu_count_that_is_no_number() -> None:
    from configargparse import ConfigFileParserException

    with pytest.raises(ConfigFileParserException, match="DYNVISION_SLURM_TRAIN_GPUS='two'"):
        render_profile(DYNVISION_SLURM_TRAIN_GPUS="two")


def test_every_profile_entry_is_commented() -> None:
    lines = PROFILE.read_text().splitlines()
    for number, line in enumerate(lines):
        if re.match(r"^\s*(\?if .*|[\w-]+):(\s|$)", line):
            previous = lines[number - 1].strip()
            assert previous.startswith("#"), f"line {number + 1} has no comment above it: {line.strip()}"


def test_snakemake_accepts_the_profile(tmp_path: Path) -> None:
    """A dry run through the real Snakemake with this profile: every option name exists in the SLURM plugin."""
    (tmp_path / "Snakefile").write_text(
        'rule all:\n    input: "trained.txt"\n'
        'rule train_model:\n    output: "trained.txt"\n    shell: "touch {output}"\n'
    )
    env = {**os.environ, **site_defaults(), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "snakemake"), "--profile", str(PROFILE.parent), "-n", "all"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "slurm_partition=gpu" in result.stdout and "gpu=1" in result.stdout


def test_snakecharm_passes_every_argument_through_and_logs_by_target(workdir: Path) -> None:
    args = ["-j100", "all_experiments", "--config", "seed=1", "model_args={rctype: full}", "--rerun-incomplete"]
    result = charm(workdir, "--foreground", *args, "--debug")
    assert result.returncode == 0, result.stderr
    assert calls(workdir) == [["--profile", str(CLUSTER / "profiles" / "slurm"), *args, "--debug"]]
    log = workdir / "logs" / "slurm" / "snakecharm_all_experiments.log"
    assert "fake snakemake ran with 9 arguments" in log.read_text()
    assert "fake snakemake ran" in result.stdout


def test_snakecharm_exports_the_site_values_and_lets_the_environment_override_them(workdir: Path) -> None:
    charm(workdir, "--foreground", "all", DYNVISION_SLURM_GPU_PARTITION="a100q")
    env = dict(line.split("=", 1) for line in (workdir.parent / "env.txt").read_text().splitlines() if "=" in line)
    assert env["DYNVISION_SLURM_GPU_PARTITION"] == "a100q"
    assert env["DYNVISION_SLURM_CPU_PARTITION"] == site_defaults()["DYNVISION_SLURM_CPU_PARTITION"]
    assert env["PATH"].startswith(str(workdir.parent / "venv" / "bin"))


def test_snakecharm_returns_snakemakes_exit_code_in_the_foreground(workdir: Path) -> None:
    assert charm(workdir, "--foreground", "all", FAKE_EXIT="3").returncode == 3
    assert not (workdir / ".snakemake" / "snakecharm.pid").exists()


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["-j", "100", "experiment", "--config", "experiment=contrast"], "experiment"),
        (["--cores", "2", "--until", "train_model"], "train_model"),
        (["-j100"], "all"),
        (["-j1", "reports/x y.done"], "reports_x_y.done"),
        (
            ["-s", "../Snakefile", "--directory", "run", "--configfile", "c.yaml", "--cores", "1", "experiment"],
            "experiment",
        ),
    ],
)
def test_snakecharm_names_the_log_after_the_first_target(workdir: Path, args: list[str], name: str) -> None:
    (workdir / "c.yaml").write_text("{}\n")
    charm(workdir, "--foreground", *args)
    assert (workdir / "logs" / "slurm" / f"snakecharm_{name}.log").exists()


def test_snakecharm_log_name_can_be_given(workdir: Path) -> None:
    charm(workdir, "--foreground", "experiment", SNAKECHARM_LOG_NAME="contrast")
    assert (workdir / "logs" / "slurm" / "snakecharm_contrast.log").exists()


def test_snakecharm_runs_in_the_background_and_says_how_to_follow(workdir: Path) -> None:
    result = charm(workdir, "-j100", "all_experiments")
    assert result.returncode == 0, result.stderr
    assert "tail -f logs/slurm/snakecharm_all_experiments.log" in result.stdout
    log = workdir / "logs" / "slurm" / "snakecharm_all_experiments.log"
    deadline = time.monotonic() + 30
    while "fake snakemake ran" not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline, "the background run never wrote its log"
        time.sleep(0.1)
    assert calls(workdir)[0][2:] == ["-j100", "all_experiments"]


def test_snakecharm_unlocks_the_stale_lock_of_an_ended_run(workdir: Path) -> None:
    (workdir / ".snakemake" / "locks").mkdir(parents=True)
    (workdir / ".snakemake" / "locks" / "0.input.lock").write_text("")
    (workdir / ".snakemake" / "snakecharm.pid").write_text("999999999\n")
    result = charm(workdir, "--foreground", "-j2", "all")
    assert result.returncode == 0, result.stderr
    unlock, run = calls(workdir)
    assert unlock[-1] == "--unlock" and "--unlock" not in run


def test_snakecharm_refuses_while_a_run_is_still_going(workdir: Path) -> None:
    (workdir / ".snakemake").mkdir()
    (workdir / ".snakemake" / "snakecharm.pid").write_text(f"{os.getpid()}\n")
    result = charm(workdir, "--foreground", "all")
    assert result.returncode == 1
    assert f"still going in this directory (pid {os.getpid()})" in result.stderr
    assert calls(workdir) == []


def test_snakecharm_says_when_the_environment_has_no_snakemake(workdir: Path) -> None:
    result = charm(workdir, "--foreground", "all", DYNVISION_VENV=str(workdir / "missing"))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "snakecharm: no snakemake on PATH after activating the environment (see cluster/site.env)"
    )


def test_snakecharm_says_when_modules_are_asked_for_but_missing(workdir: Path) -> None:
    result = charm(workdir, "--foreground", "all", DYNVISION_MODULES="cuda/12.1")
    assert result.returncode == 1
    assert "DYNVISION_MODULES is set but the 'module' command is not available" in result.stderr


def test_make_targets_delegate_to_snakecharm() -> None:
    def dry(*args: str) -> str:
        return subprocess.run(
            ["make", "--no-print-directory", "-n", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout

    assert dry("cluster-all").strip() == "./cluster/snakecharm.sh -j100 all_experiments"
    assert "./cluster/snakecharm.sh -j100 experiment --config experiment=blur" in dry("cluster", "EXP=blur")
    assert "squeue -u" in dry("cluster-status")


def test_local_slurm_names_the_valid_commands() -> None:
    result = subprocess.run([str(CLUSTER / "local-slurm.sh"), "restart"], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().endswith("error: unknown command 'restart'; valid: start, stop, status")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-j1", "--config", "epochs"], "snakecharm: --config entry 'epochs' is not name=value"),
        (["-j1", "--configfile", "missing.yaml", "experiment"], "snakecharm: --configfile missing.yaml does not exist"),
    ],
)
def test_snakecharm_refuses_what_snakemake_would_answer_with_a_traceback(
    workdir: Path, args: list[str], message: str
) -> None:
    """Checked before anything starts, in the foreground, so the mistake is not only in the background log."""
    result = charm(workdir, *args)
    assert result.returncode == 1
    assert result.stderr.strip().startswith(message) and len(result.stderr.strip().splitlines()) == 1
    assert not (workdir / "logs").exists()
