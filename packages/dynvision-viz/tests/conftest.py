"""Synthetic DynVision test outputs written the way the workflow writes them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

AREAS = ["V1", "V2", "V4", "IT"]
CLASS_NAMES = ["disk", "square", "triangle", "cross", "ring", "horizontal", "vertical", "diagonal", "checker", "dots"]


def write_test(
    directory: Path,
    name: str = "X",
    *,
    n_samples: int = 3,
    n_timesteps: int = 5,
    dt: float = 2.0,
    model_args: dict | None = None,
    data_args: dict | None = None,
    seed: int = 0,
    dynamics: dict | None = None,
) -> tuple[Path, Path]:
    """Write `<name>_test_outputs.csv`, `<name>_test_responses.pt` and the outputs' sidecar; return both paths."""
    import torch

    rng = np.random.default_rng(seed)
    samples, times = np.meshgrid(np.arange(n_samples), np.arange(n_timesteps), indexing="ij")
    first = rng.integers(0, 10, n_samples)
    labels = np.where(times >= 1, first[:, None], -1)
    guesses = np.where(times >= 2, first[:, None], (first[:, None] + 1) % 10)
    outputs = pd.DataFrame(
        {
            "sample_index": samples.ravel(),
            "times_index": times.ravel(),
            "label_index": labels.ravel(),
            "guess_index": guesses.ravel(),
            "first_label_index": np.repeat(first, n_timesteps),
            "guess_confidence": rng.uniform(0, 1, samples.size),
            "first_label_confidence": rng.uniform(0, 1, samples.size),
        }
    )
    outputs_path = directory / f"{name}_test_outputs.csv"
    outputs.to_csv(outputs_path, index=False)
    responses = {
        area: {
            "mean": torch.full((n_samples, n_timesteps), float(i + 1)).half() + torch.arange(n_timesteps).half(),
            "std": torch.full((n_samples, n_timesteps), 0.5).half(),
        }
        for i, area in enumerate(AREAS)
    }
    responses_path = directory / f"{name}_test_responses.pt"
    torch.save(
        {
            "format": 1,
            "dt": dt,
            "areas": AREAS,
            "responses": responses,
            "logits": torch.zeros(n_samples, n_timesteps, 10).half(),
            "labels": torch.as_tensor(labels, dtype=torch.int64),
        },
        responses_path,
    )
    sidecar = {
        "model_name": "DyRCNNx4",
        "model_args": model_args if model_args is not None else {"rctype": "full"},
        "seed": str(seed),
        "data_name": "embedded",
        "data_loader": "StimulusContrast",
        "data_args": data_args if data_args is not None else {"contrast": 0.5},
        "data_group": "all",
        "status": "trained",
        "dt": dt,
        "n_timesteps": n_timesteps,
        "n_classes": 10,
        "class_names": CLASS_NAMES,
        **({"dynamics": dynamics} if dynamics is not None else {}),
    }
    (directory / f"{name}_test_outputs.config.yaml").write_text(yaml.safe_dump(sidecar))
    return outputs_path, responses_path


@pytest.fixture
def one_test(tmp_path: Path) -> tuple[Path, Path]:
    return write_test(tmp_path)


@pytest.fixture
def make_test():
    """The writer itself, for tests that need several tests with different parameters."""
    return write_test


@pytest.fixture(autouse=True)
def _close_figures():
    """Figures are returned, not shown; close them so a long test run does not pile them up."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
