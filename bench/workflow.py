"""Benchmark of dynvision-workflow, measured in one run.

1. Dry-run time of a DynVision sweep of at least 5,000 jobs (contrast experiment, four recurrence types x many
   seeds) against Snakemake's own dry-run time for a trivial workflow (one rule, `touch`) with the same number of
   jobs (target: <= 2x). A small experiment is timed first: its excess over the trivial workflow is DynVision's
   fixed cost (config loading and validation, torch-free for built-in models and stimuli); the rest of the sweep's
   excess is Snakemake's own per-job cost of richer jobs (8 wildcards, up to 8 files, params and resources per job).
2. With --e2e: end-to-end wall time of `make experiment EXP=contrast` on the defaults (the Makefile's command, run
   in a fresh scratch folder so nothing is reused), and the trained model's validation accuracy against chance.

The CPU may be shared with other work: compare the ratio, not the absolute seconds.

Usage: .venv/bin/python bench/workflow.py [--jobs 5000] [--e2e]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
RCTYPES = ["full", "self", "depthpointwise", "pointdepthwise"]
JOBS_PER_MODEL = 10  # init, train, 4 tests, process, 3 plots (contrast defaults)

TRIVIAL = """
N = int(config["n_jobs"])

rule all:
    input: expand("out/{i}.txt", i=range(N))

rule make:
    output: "out/{i}.txt"
    shell: "touch {output}"
"""


def dry_run(command: list[str], workdir: Path, env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall time of a dry run and the number of jobs it planned."""
    start = time.perf_counter()
    result = subprocess.run(
        [*command, "-n", "--quiet", "rules"],
        cwd=workdir,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"dry run failed: {result.stderr[-2000:]}")
    totals = re.findall(r"^total\s+(\d+)", result.stdout + result.stderr, flags=re.MULTILINE)
    return elapsed, int(totals[-1]) if totals else 0


def against_trivial(targets: list[str]) -> tuple[float, int, float, int]:
    """Dry-run DynVision's workflow for ``targets``, then the trivial workflow with as many jobs, in one scratch
    folder: (our seconds, our jobs, trivial seconds, trivial jobs)."""
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        dynvision = [*SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), *targets]
        ours, jobs = dry_run(dynvision, workdir, {"DYNVISION_CONFIG_DIR": str(REPO / "configs")})
        (workdir / "Trivial").write_text(TRIVIAL)
        theirs, trivial_jobs = dry_run([*SNAKEMAKE, "--snakefile", "Trivial", "--config", f"n_jobs={jobs}"], workdir)
    return ours, jobs, theirs, trivial_jobs


def sweep_benchmark(target_jobs: int) -> None:
    n_seeds = -(-target_jobs // (JOBS_PER_MODEL * len(RCTYPES)))
    seeds = "[" + ",".join(f"{seed:04d}" for seed in range(1, n_seeds + 1)) + "]"
    rctypes = "model_args={rctype:[" + ",".join(RCTYPES) + "],tsteps:8}"
    targets = ["all_experiments", "--config", "experiment=contrast", rctypes, f"seed={seeds}"]
    ours, jobs, theirs, trivial_jobs = against_trivial(targets)
    print(
        f"sweep dry run:   {jobs} jobs in {ours:.1f} s (DynVision workflow, {n_seeds} seeds x {len(RCTYPES)} rctypes)"
    )
    print(f"trivial dry run: {trivial_jobs} jobs in {theirs:.1f} s (one-rule Snakemake workflow)")
    print(f"ratio:           {ours / theirs:.2f}x (target <= 2x)")


def startup_benchmark() -> None:
    """Fixed cost (config loading, validation against the registries, parsing) apart from the per-job cost."""
    ours, jobs, theirs, _ = against_trivial(["reports/experiment_contrast.done"])
    print(f"start-up:        {ours:.1f} s for {jobs} jobs (DynVision) vs {theirs:.1f} s (trivial): fixed cost")


def e2e_benchmark() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        command = [
            str(REPO / ".venv" / "bin" / "snakemake"), "--snakefile", str(REPO / "Snakefile"), "--cores", "2",
            "experiment", "--config", "experiment=contrast",
        ]  # fmt: skip
        start = time.perf_counter()
        result = subprocess.run(
            command, cwd=workdir, capture_output=True, text=True,
            env={**os.environ, "DYNVISION_CONFIG_DIR": str(REPO / "configs")},
        )  # fmt: skip
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(f"make experiment failed: {result.stderr[-3000:]}")
        trained = next(workdir.glob("models/*/*_trained.config.yaml"))
        record = yaml.safe_load(trained.read_text())
        figures = list(workdir.glob("reports/figures/contrast/*/*.png"))
        tests = list(workdir.glob("reports/*/*_test_outputs.csv"))
    counts = f"{len(tests)} tests, {len(figures)} figures"
    print(f"make experiment EXP=contrast: {elapsed / 60:.1f} min wall on 2 cores ({counts})")
    print(f"trained model: validation accuracy {record['val_accuracy']:.3f} (chance {record['chance']:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=5000, help="size of the sweep (at least this many jobs)")
    parser.add_argument("--e2e", action="store_true", help="also time `make experiment EXP=contrast` (minutes)")
    args = parser.parse_args()
    startup_benchmark()
    sweep_benchmark(args.jobs)
    if args.e2e:
        e2e_benchmark()


if __name__ == "__main__":
    main()
