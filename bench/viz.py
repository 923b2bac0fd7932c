"""Benchmark of dynvision-viz aggregation: rows per second and peak memory when merging a big sweep.

Writes synthetic test outputs (the contract's columns, one sidecar each, and with `--areas N` a responses
file per test) so that the experiment table has `--rows` rows, then runs `dynvision-viz aggregate` on them in
a child process and prints its throughput and peak RSS (ru_maxrss), which must stay under 2 GB for 10 million.

    .venv/bin/python bench/viz.py                      # 10 million rows from test outputs alone
    .venv/bin/python bench/viz.py --areas 4            # 10 million rows: 2.5 million outputs x 4 areas
    .venv/bin/python bench/viz.py --rows 1000000       # quicker
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

N_TIMESTEPS = 20
WRITE_CHUNK = 1_000_000


def write_test(path: Path, n_rows: int, contrast: float, seed: int) -> None:
    """One synthetic test of `n_rows` rows (samples x 20 time steps), written in chunks, plus its sidecar."""
    rng = np.random.default_rng(seed)
    n_samples = n_rows // N_TIMESTEPS
    for start in range(0, n_samples, WRITE_CHUNK // N_TIMESTEPS):
        samples = np.arange(start, min(n_samples, start + WRITE_CHUNK // N_TIMESTEPS))
        first = rng.integers(0, 100, len(samples))
        times = np.tile(np.arange(N_TIMESTEPS), len(samples))
        labels = np.repeat(first, N_TIMESTEPS)
        chunk = pd.DataFrame(
            {
                "sample_index": np.repeat(samples, N_TIMESTEPS),
                "times_index": times,
                "label_index": np.where(times >= 2, labels, -1),
                "guess_index": np.where(rng.random(len(times)) < contrast, labels, rng.integers(0, 100, len(times))),
                "first_label_index": labels,
                "guess_confidence": rng.random(len(times)).round(4),
                "first_label_confidence": rng.random(len(times)).round(4),
            }
        )
        chunk.to_csv(path, mode="w" if start == 0 else "a", header=start == 0, index=False)
    sidecar = {
        "model_name": "DyRCNNx4",
        "model_args": {"rctype": "full"},
        "seed": str(seed),
        "data_name": "embedded",
        "data_loader": "StimulusContrast",
        "data_args": {"contrast": contrast, "tsteps": N_TIMESTEPS},
        "data_group": "all",
        "status": "trained",
        "dt": 2.0,
        "n_timesteps": N_TIMESTEPS,
    }
    path.with_name(path.stem + ".config.yaml").write_text(yaml.safe_dump(sidecar))


def write_responses(path: Path, n_samples: int, n_areas: int, seed: int) -> None:
    """Per-area response mean and std (float16) of one test, in the contract's format."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    responses = {
        f"A{index}": {
            "mean": torch.rand(n_samples, N_TIMESTEPS, generator=generator).half(),
            "std": torch.rand(n_samples, N_TIMESTEPS, generator=generator).half(),
        }
        for index in range(n_areas)
    }
    data = {
        "format": 1,
        "dt": 2.0,
        "areas": list(responses),
        "responses": responses,
        "logits": torch.zeros(n_samples, N_TIMESTEPS, 1).half(),
        "labels": torch.zeros(n_samples, N_TIMESTEPS, dtype=torch.int64),
    }
    torch.save(data, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="total rows over all tests")
    parser.add_argument("--tests", type=int, default=10, help="number of test files")
    parser.add_argument("--chunksize", type=int, default=500_000, help="rows aggregate holds at once")
    parser.add_argument("--areas", type=int, default=0, help="areas per responses file (0: no responses)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="dynvision-viz-bench-"))
    try:
        started = time.perf_counter()
        inputs = []
        for index, contrast in enumerate(np.linspace(0.1, 1.0, args.tests)):
            path = workdir / f"c{index}_test_outputs.csv"
            n_rows = args.rows // args.tests // max(args.areas, 1)
            write_test(path, n_rows, float(contrast), index)
            inputs.append(str(path))
            if args.areas:
                responses = workdir / f"c{index}_test_responses.pt"
                write_responses(responses, n_rows // N_TIMESTEPS, args.areas, index)
                inputs.append(str(responses))
        written = time.perf_counter() - started
        size = sum(Path(path).stat().st_size for path in inputs)

        command = Path(sys.executable).parent / "dynvision-viz"
        output = workdir / "data.csv"
        started = time.perf_counter()
        subprocess.run(
            [str(command), "aggregate", "bench", "--parameter", "contrast", "--output", str(output),
             "--chunksize", str(args.chunksize), "--input", *inputs],
            check=True, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        elapsed = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        with output.open() as handle:
            n_rows = sum(1 for _ in handle) - 1
        areas = f", {args.areas} areas" if args.areas else ""
        print(f"input: {args.tests} tests{areas}, {size / 1e6:.0f} MB (written in {written:.1f} s)")
        print(f"output: {n_rows:,} rows")
        print(
            f"aggregate: {elapsed:.1f} s, {n_rows / elapsed:,.0f} rows/s, output {output.stat().st_size / 1e6:.0f} MB"
        )
        print(f"peak RSS of aggregate: {peak_mb:,.0f} MB (chunksize {args.chunksize:,}; limit 2,048 MB)")
    finally:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
