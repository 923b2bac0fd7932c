"""Run Snakemake on the repository's root Snakefile in a scratch folder and read what it plans."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from dynvision.workflow.paths import STATUS_PATTERN, SWITCH_OFF_PATTERN

REPO = Path(__file__).resolve().parents[3]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]


@dataclass
class Plan:
    """The jobs of a dry run: rule name per job and every output path."""

    returncode: int
    stdout: str
    stderr: str
    rules: list[str]
    outputs: list[str]

    def outputs_of(self, rule: str) -> list[str]:
        return [path for name, paths in self.jobs for path in paths if name == rule]

    @property
    def jobs(self) -> list[tuple[str, list[str]]]:
        jobs, current = [], None
        for line in self.stdout.splitlines():
            if line.startswith("rule ") or line.startswith("localrule "):
                current = (line.split()[1].rstrip(":"), [])
                jobs.append(current)
            elif current and line.strip().startswith("output: "):
                current[1].extend(line.strip()[len("output: ") :].split(", "))
        return jobs


def snakemake(workdir: Path, *args: str, dry: bool = True, env: dict | None = None) -> Plan:
    """Run snakemake (a dry run by default) with the repository's configs in ``workdir``."""
    environ = {**os.environ, "DYNVISION_CONFIG_DIR": str(REPO / "configs"), **(env or {})}
    base = SNAKEMAKE if "--snakefile" not in args else SNAKEMAKE[:3]
    command = [*base, "--directory", str(workdir), *(["-n"] if dry else []), *args]
    result = subprocess.run(command, capture_output=True, text=True, env=environ, cwd=workdir, timeout=1800)
    plan = Plan(result.returncode, result.stdout, result.stderr, [], [])
    plan.rules = [name for name, _ in plan.jobs]
    plan.outputs = [path for _, paths in plan.jobs for path in paths]
    return plan


NAME = r"[A-Za-z0-9][A-Za-z0-9.\-]*"
ARGS = r"(?::[A-Za-z0-9.\-]+=[A-Za-z0-9.\-]+(?:\+[A-Za-z0-9.\-]+=[A-Za-z0-9.\-]+)*|~[0-9a-f]{12,64})?"
MODEL = rf"(?P<model_name>{NAME})/(?P=model_name)(?P<model_args>{ARGS})_(?P<seed>[0-9]+)_(?P<data_name>{NAME})"
STATUS = rf"(?P<status>{STATUS_PATTERN})(?P<switch_off>{SWITCH_OFF_PATTERN})"
TEST = rf"{MODEL}_{STATUS}_(?P<data_loader>{NAME})(?P<data_args>{ARGS})_(?P<data_group>{NAME})"
PATTERNS = {
    "model": re.compile(rf"models/{MODEL}_({STATUS_PATTERN})\.pt"),
    "responses": re.compile(rf"models/{TEST}_test_responses\.pt"),
    "outputs": re.compile(rf"reports/{TEST}_test_outputs\.csv"),
    "figure": re.compile(
        rf"reports/figures/(?P<experiment>{NAME})/(?P=experiment)_{NAME}{ARGS}_[0-9]+_{NAME}_{STATUS}_{NAME}(~[0-9a-f]{{8}})?/{NAME}\.png"
    ),
    "comparison": re.compile(rf"reports/figures/{NAME}/comparison_{NAME}/{NAME}\.(csv|png|pdf)"),
    "done": re.compile(rf"reports/experiment_{NAME}\.done"),
}
"""The documented output patterns of the user guide."""


def kind_of(path: str) -> str | None:
    """Which documented pattern a path follows (None: an auxiliary file)."""
    for kind, pattern in PATTERNS.items():
        if pattern.fullmatch(path):
            return kind
    return None
