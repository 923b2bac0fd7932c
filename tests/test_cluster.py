"""Runs on a real SLURM cluster: cluster/local-slurm.sh brings one up on this machine (as root, as in CI).

A small workflow written into a temporary directory goes through cluster/snakecharm.sh and the SLURM
profile once; the tests then read what SLURM recorded (sacct), the job logs and Snakemake's log. Its
train_model job fails on the first attempt and its `broken` job always fails, so one run shows retries,
kept logs of failed jobs and the end of a run with a failure next to jobs that complete.
SLURM jobs cost about 14 s each here, at most two run at once; the run submits six.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dynvision.workflow.provenance import REFERENCE_TRAINING, training_tag

pytestmark = [pytest.mark.slurm, pytest.mark.integration, pytest.mark.xdist_group("slurm")]

ROOT = Path(__file__).resolve().parents[1]
CLUSTER = ROOT / "cluster"
FINAL_STATES = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL"}

SNAKEFILE = '''
rule all:
    input: "results/tested_0.txt", "results/broken.txt"

rule prepare:
    output: "results/prepared.txt"
    resources: mem_mb=200, runtime=5
    shell: "echo $SLURM_JOB_ID > {output}"

rule train_model:
    input: "results/prepared.txt"
    output: "results/trained_{seed}.txt"
    resources:
        mem_mb=lambda wildcards, attempt: 200 * attempt,
        runtime=lambda wildcards, attempt: 5 * attempt,
    shell:
        """
        if [ ! -e results/failed_once ]; then touch results/failed_once; echo failing on purpose >&2; exit 3; fi
        echo $SLURM_JOB_ID {resources.mem_mb} > {output}
        """

rule test_model:
    input: "results/trained_{seed}.txt"
    output: "results/tested_{seed}.txt"
    resources: mem_mb=200, runtime=5
    shell: "echo $SLURM_JOB_ID > {output}"

rule broken:
    output: "results/broken.txt"
    resources: mem_mb=200, runtime=5
    shell: "echo broken in job $SLURM_JOB_ID >&2; exit 4"
'''


DDP_SNAKEFILE = """
rule train_model:
    output: "trained.txt"
    params: launcher=lambda wildcards, resources: resources.get("mpi", "")
    shell: "{params.launcher} python ddp.py {output}"
"""

# Two CPU processes stand in for two GPUs: Lightning takes rank and world size from the SLURM tasks.
DDP_SCRIPT = """
import sys

import pytorch_lightning as pl
import torch


class Tiny(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)

    def training_step(self, batch, _):
        return torch.nn.functional.mse_loss(self.layer(batch[0]), batch[1])

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


data = torch.utils.data.TensorDataset(torch.randn(16, 4), torch.randn(16, 1))
trainer = pl.Trainer(
    accelerator="cpu", devices=2, strategy="ddp", max_epochs=1, logger=False, enable_checkpointing=False,
    enable_progress_bar=False, enable_model_summary=False,
)
trainer.fit(Tiny(), torch.utils.data.DataLoader(data, batch_size=4))
environment = type(trainer.strategy.cluster_environment).__name__
with open(f"{sys.argv[1]}.rank{trainer.global_rank}", "w") as out:
    out.write(f"{trainer.global_rank} {trainer.world_size} {environment}\\n")
if trainer.global_rank == 0:
    open(sys.argv[1], "w").close()
"""


@dataclass(frozen=True)
class Submission:
    """One sbatch call of the run, as Snakemake logged it and SLURM accounted it."""

    rule: str
    jobid: str
    log: Path
    partition: str
    state: str
    tres: str


@dataclass(frozen=True)
class Run:
    """The finished run: its directory, Snakemake's exit code and log, and every SLURM job it submitted."""

    workdir: Path
    returncode: int
    log: str
    submissions: list[Submission]

    def of(self, rule: str) -> list[Submission]:
        return [submission for submission in self.submissions if submission.rule == rule]


def local_slurm(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLUSTER / "local-slurm.sh"), command], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[None]:
    """A running SLURM cluster: the one already up, or one started here (and stopped again at the end)."""
    if shutil.which("sinfo") and local_slurm("status").returncode == 0:
        yield
        return
    if os.geteuid() != 0:
        pytest.skip("no SLURM cluster runs and starting one (cluster/local-slurm.sh start) needs root")
    started = local_slurm("start")
    assert started.returncode == 0, started.stdout + started.stderr
    yield
    local_slurm("stop")


def accounting(jobids: list[str]) -> dict[str, tuple[str, str, str, str]]:
    """sacct's partition, state, comment and allocated resources per job, once every job has a final state."""
    deadline = time.monotonic() + 60
    while True:
        out = subprocess.run(
            ["sacct", "-X", "-n", "-P", "-j", ",".join(jobids), "-o", "JobID,Partition,State,Comment,AllocTRES"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        records = {fields[0]: tuple(fields[1:]) for fields in (line.split("|") for line in out.splitlines())}
        if set(records) == set(jobids) and all(record[1] in FINAL_STATES for record in records.values()):
            return records
        assert time.monotonic() < deadline, f"sacct never recorded the end of every job: {records}"
        time.sleep(1)


def charm(workdir: Path, *args: str, **site: str) -> tuple[int, str, list[tuple[str, str]]]:
    """Run cluster/snakecharm.sh in the foreground: exit code, its log, and (SLURM jobid, job log) per sbatch."""
    env = {**os.environ, "DYNVISION_VENV": str(Path(sys.executable).parent.parent), "DYNVISION_SLURM_ACCOUNT": "root"}
    fast = ["--slurm-init-seconds-before-status-checks", "2", "--latency-wait", "5"]
    result = subprocess.run(
        [str(CLUSTER / "snakecharm.sh"), "--foreground", *fast, *args],
        cwd=workdir,
        env={**env, **site},
        capture_output=True,
        text=True,
        timeout=600,
    )
    [log_file] = (workdir / "logs" / "slurm").glob("snakecharm_*.log")
    log = log_file.read_text()
    return result.returncode, log, re.findall(r"submitted with SLURM jobid (\d+) \(log: (.+?)\)\.\n", log)


@pytest.fixture(scope="session")
def run(slurm_cluster: None, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The small workflow, run once through cluster/snakecharm.sh in the foreground (once per test process, also
    when parallel test workers interleave these tests with others)."""
    workdir = tmp_path_factory.mktemp("slurm-workflow")
    (workdir / "Snakefile").write_text(SNAKEFILE)
    returncode, log, submitted = charm(workdir, "-j2", "--retries", "1", "all")
    records = accounting([jobid for jobid, _ in submitted])
    submissions = [
        Submission(
            rule=records[jobid][2].removeprefix("rule_").split("_wildcards_")[0],
            jobid=jobid,
            log=Path(path),
            partition=records[jobid][0],
            state=records[jobid][1],
            tres=records[jobid][3],
        )
        for jobid, path in submitted
    ]
    return Run(workdir=workdir, returncode=returncode, log=log, submissions=submissions)


def test_every_job_goes_through_sbatch_on_the_partition_of_the_profile(run: Run) -> None:
    assert sorted(submission.rule for submission in run.submissions) == sorted(
        ["prepare", "train_model", "train_model", "test_model", "broken", "broken"]
    )
    for submission in run.submissions:
        expected = "gpu" if submission.rule in {"train_model", "test_model"} else "cpu"
        assert submission.partition == expected, submission
        assert ("gres/gpu=1" in submission.tres) == (expected == "gpu"), submission
    # The outputs were written inside the SLURM jobs that sacct knows, not by a local process.
    prepared = (run.workdir / "results" / "prepared.txt").read_text().split()[0]
    assert prepared == run.of("prepare")[0].jobid


def test_a_job_that_fails_once_is_retried_with_more_memory_and_succeeds(run: Run) -> None:
    first, second = run.of("train_model")
    assert (first.state, second.state) == ("FAILED", "COMPLETED")
    assert "mem=200M" in first.tres and "mem=400M" in second.tres
    assert (run.workdir / "results" / "trained_0.txt").read_text().split() == [second.jobid, "400"]


def test_job_logs_land_in_the_documented_layout_and_are_kept(run: Run) -> None:
    logs = run.workdir / "logs" / "slurm"
    for submission in run.submissions:
        wildcards = "0" if submission.rule in {"train_model", "test_model"} else ""
        expected = logs / f"rule_{submission.rule}" / wildcards / f"{submission.jobid}.log"
        assert submission.log == expected and expected.is_file(), submission
    failed_train = run.of("train_model")[0].log.read_text()
    assert "failing on purpose" in failed_train
    assert (logs / "snakecharm_all.log").is_file()


def test_an_always_failing_job_ends_the_run_with_a_clear_message_while_others_complete(run: Run) -> None:
    assert run.returncode != 0
    assert [submission.state for submission in run.of("broken")] == ["FAILED", "FAILED"]
    assert "Error in rule broken:" in run.log
    assert re.search(r"SLURM-job '\d+' failed, SLURM status is: 'FAILED'", run.log)
    for submission in run.of("broken"):  # the failed job's own log is kept and shown
        assert f"broken in job {submission.jobid}" in submission.log.read_text()
        assert f"broken in job {submission.jobid}" in run.log
    assert run.log.rstrip().endswith("At least one job did not complete successfully.")
    assert (run.workdir / "results" / "tested_0.txt").is_file()
    assert not (run.workdir / "results" / "broken.txt").exists()


def test_multi_gpu_training_runs_one_lightning_ddp_process_per_gpu(
    slurm_cluster: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """DYNVISION_SLURM_TRAIN_GPUS=2: one job with two GPUs and two srun tasks, which Lightning joins into DDP."""
    workdir = tmp_path_factory.mktemp("slurm-ddp")
    (workdir / "Snakefile").write_text(DDP_SNAKEFILE)
    (workdir / "ddp.py").write_text(DDP_SCRIPT)
    returncode, log, submitted = charm(workdir, "-j1", "train_model", DYNVISION_SLURM_TRAIN_GPUS="2")
    assert returncode == 0, log
    [(jobid, _)] = submitted
    partition, state, _, tres = accounting([jobid])[jobid]
    assert (partition, state) == ("gpu", "COMPLETED") and "gres/gpu=2" in tres
    ranks = sorted(path.read_text().strip() for path in workdir.glob("trained.txt.rank*"))
    assert ranks == ["0 2 SLURMEnvironment", "1 2 SLURMEnvironment"]


TRAINING = {"epochs": 1, "train_images": 32, "batch_size": 16, "cluster_batch_size": 16}
WORKFLOW_CONFIG = [
    "experiment=contrast",
    "experiment_config={contrast: {status: trained, parameter: contrast, data_loader: StimulusContrast,"
    " data_args: {trialms: 14, stimms: 4, contrast: [0.5]}}}",
    "model_args={rctype: full, tsteps: 5}",
    "test_images=16",
    *(f"{key}={value}" for key, value in TRAINING.items()),
]
LOCAL_RULES = {"experiment_done", "all_experiments"}


def job_counts(log: str) -> dict[str, int]:
    """The job-stats table Snakemake prints at the start of a run: rule -> number of jobs."""
    table = log.split("Job stats:", 1)[1].split("total", 1)[0]
    return {rule: int(count) for rule, count in re.findall(r"^(\w+)\s+(\d+)$", table, flags=re.MULTILINE)}


@pytest.mark.slow
@pytest.mark.skipif(not (ROOT / "Snakefile").exists(), reason="the workflow's root Snakefile is missing")
def test_a_small_all_experiments_runs_on_slurm_like_a_local_run(
    slurm_cluster: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The real workflow on the embedded dataset: every job but the local ones via sbatch, same outputs as locally."""
    local_dir = tmp_path_factory.mktemp("workflow-local")
    slurm_dir = tmp_path_factory.mktemp("workflow-slurm")
    workflow = ["-s", str(ROOT / "Snakefile"), "all_experiments", "--config", *WORKFLOW_CONFIG]
    env = {**os.environ, "DYNVISION_CONFIG_DIR": str(ROOT / "configs")}
    # The local reference run works while the SLURM run mostly waits for the scheduler.
    local = subprocess.Popen(
        [str(Path(sys.executable).parent / "snakemake"), "--cores", "2", *workflow],
        cwd=local_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    returncode, log, submitted = charm(slurm_dir, "-j2", *workflow, DYNVISION_CONFIG_DIR=env["DYNVISION_CONFIG_DIR"])
    local_log = local.communicate(timeout=600)[0]
    assert local.returncode == 0, local_log[-3000:]
    assert returncode == 0, log[-3000:]

    records = accounting([jobid for jobid, _ in submitted])
    rules = [records[jobid][2].removeprefix("rule_").split("_wildcards_")[0] for jobid, _ in submitted]
    expected = {rule: count for rule, count in job_counts(log).items() if rule not in LOCAL_RULES}
    assert {rule: rules.count(rule) for rule in set(rules)} == expected
    for (jobid, path), rule in zip(submitted, rules, strict=True):
        partition, state, _, tres = records[jobid]
        gpu_rule = rule in {"train_model", "test_model"}
        assert (partition, state) == ("gpu" if gpu_rule else "cpu", "COMPLETED"), (rule, records[jobid])
        assert ("gres/gpu=1" in tres) == gpu_rule, (rule, tres)
        assert Path(path).is_relative_to(slurm_dir / "logs" / "slurm" / f"rule_{rule}") and Path(path).is_file()

    def outputs(root: Path) -> set[str]:
        return {str(path.relative_to(root)) for folder in ["models", "reports"] for path in (root / folder).rglob("*")}

    assert outputs(slurm_dir) == outputs(local_dir)
    trained = f"_trained{training_tag({**REFERENCE_TRAINING, **TRAINING})}.pt"  # the tag of these training settings
    compared = [p for p in outputs(local_dir) if p.endswith((trained, "_test_outputs.csv", "data.csv", ".png"))]
    assert len(compared) >= 4, f"the run wrote no trained model, test outputs or figures: {compared}"
    for relative in compared:
        assert same_content(slurm_dir / relative, local_dir / relative), relative


def same_content(first: Path, second: Path) -> bool:
    """Equal files; torch files are compared by what they hold (their zip headers carry temporary names)."""
    if first.suffix != ".pt":
        return first.read_bytes() == second.read_bytes()
    import torch

    def equal(a: object, b: object) -> bool:
        if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
            return torch.equal(a, b)
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(equal(a[key], b[key]) for key in a)
        if isinstance(a, list | tuple) and isinstance(b, list | tuple):
            return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
        return a == b

    return equal(torch.load(first, weights_only=True), torch.load(second, weights_only=True))
