"""Aggregation memory is bounded by the chunk size, not by the number of rows."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from dynvision.viz.contract import OUTPUT_COLUMNS

SIDECAR = {"model_name": "M", "model_args": {}, "seed": "0", "status": "trained", "data_args": {"contrast": 1.0}}


def write_outputs(path: Path, n_rows: int) -> None:
    rng = np.random.default_rng(0)
    for start in range(0, n_rows, 200_000):
        size = min(200_000, n_rows - start)
        columns = {name: rng.integers(0, 10, size) for name in OUTPUT_COLUMNS}
        columns["sample_index"] = np.arange(start, start + size) // 10
        columns["times_index"] = np.arange(start, start + size) % 10
        pd.DataFrame(columns).to_csv(path, mode="w" if start == 0 else "a", header=start == 0, index=False)
    path.with_name(path.stem + ".config.yaml").write_text(yaml.safe_dump({**SIDECAR, "dt": 1.0}))


def peak_rss_mb(inputs: list[Path], output: Path) -> float:
    code = (
        "import resource, sys; from dynvision.viz.process import aggregate_tests; "
        "aggregate_tests(sys.argv[2:], sys.argv[1], chunksize=20_000); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(output), *map(str, inputs)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return float(result.stdout)


@pytest.mark.slow
def test_peak_memory_does_not_grow_with_rows(tmp_path: Path) -> None:
    small, large = tmp_path / "small_test_outputs.csv", tmp_path / "large_test_outputs.csv"
    write_outputs(small, 40_000)
    write_outputs(large, 800_000)  # 20x the rows, about 100 MB of tidy table in memory if held at once
    small_peak = peak_rss_mb([small], tmp_path / "small.csv")
    large_peak = peak_rss_mb([large, large], tmp_path / "large.csv")
    assert sum(1 for _ in (tmp_path / "large.csv").open()) == 1_600_001
    assert large_peak - small_peak < 40, (small_peak, large_peak)
