"""The data contract between a DynVision test run and this package: reading and validating what a test writes.

Every reader checks its input before any long work starts and fails with one `DataContractError` line that names
the file and what is wrong, so a broken sweep is caught at its first bad file rather than deep inside a plot.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

if TYPE_CHECKING:
    import pandas as pd

OUTPUT_COLUMNS: dict[str, str] = {
    "sample_index": "int64",
    "times_index": "int64",
    "label_index": "int64",
    "guess_index": "int64",
    "first_label_index": "int64",
    "guess_confidence": "float64",
    "first_label_confidence": "float64",
}
"""Required columns of `*_test_outputs.csv` and their dtypes (extra columns are kept as they are)."""

SIDECAR_REQUIRED = ("model_name", "model_args", "seed", "status", "data_args")
"""Sidecar keys without which a test cannot be placed in an experiment table."""

SIDECAR_OPTIONAL = (
    "data_name", "data_loader", "data_group", "switch_off", "dt", "n_timesteps", "n_classes", "settled",
)  # fmt: skip
"""Sidecar keys the contract lists that become columns when present."""

RESPONSES_FORMAT = 1

RESPONSE_DELAY = "response_delay_ms"
"""Tidy-table column: ms after a frame is shown at which an area first receives drive (first response step x dt)."""


class DataContractError(ValueError):
    """A file does not follow the DynVision test-output contract."""


def sidecar_path(output: str | Path) -> Path:
    """Return `<output without its suffix>.config.yaml`, where the workflow puts an output's parameters."""
    output = Path(output)
    return output.with_name(output.stem + ".config.yaml")


def write_sidecar(output: str | Path, parameters: dict[str, Any]) -> Path:
    """Write the parameters of `output` to its sidecar, atomically."""
    from dynvision.viz.files import atomic_path

    with atomic_path(sidecar_path(output)) as temporary:
        temporary.write_text(yaml.safe_dump(parameters, sort_keys=False))
    return sidecar_path(output)


def class_names_of(output: str | Path) -> list[str] | None:
    """The class names a test's or an experiment table's sidecar gives (None where it gives none)."""
    path = sidecar_path(output)
    if not path.exists():
        return None
    names = (yaml.safe_load(path.read_text()) or {}).get("class_names")
    return [str(name) for name in names] if isinstance(names, list) else None


def load_sidecar(output: str | Path, *, required: bool = True) -> dict[str, Any]:
    """Read the parameters of `output` from its sidecar; `{}` when it is absent and not `required`."""
    path = sidecar_path(output)
    if not path.exists():
        if required:
            raise DataContractError(f"{path}: sidecar config is missing (expected next to {Path(output).name})")
        return {}
    try:
        config = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise DataContractError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(config, dict):
        raise DataContractError(f"{path}: sidecar must be a mapping of parameters, got {type(config).__name__}")
    missing = [key for key in SIDECAR_REQUIRED if key not in config]
    if missing:
        raise DataContractError(f"{path}: sidecar lacks {', '.join(missing)} (required: {', '.join(SIDECAR_REQUIRED)})")
    for key in ("model_args", "data_args"):
        if config[key] is None:
            config[key] = {}
        if not isinstance(config[key], dict):
            raise DataContractError(f"{path}: {key} must be a mapping, got {config[key]!r}")
    return config


def first_response_steps(config: dict[str, Any], *, source: str = "sidecar") -> dict[str, int]:
    """Step (0 = first input frame) at which each area first receives drive, from a sidecar's `dynamics`.

    Returns `{}` when the sidecar does not record it (tests written before the models reported it).
    """
    dynamics = config.get("dynamics") or {}
    if not isinstance(dynamics, dict):
        raise DataContractError(f"{source}: dynamics must be a mapping, got {dynamics!r}")
    steps = dynamics.get("first_response_step")
    if steps is None:
        return {}
    if not isinstance(steps, dict):
        raise DataContractError(f"{source}: dynamics.first_response_step must map areas to steps, got {steps!r}")
    for area, step in steps.items():
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise DataContractError(f"{source}: first_response_step of {area!r} must be an integer >= 0, got {step!r}")
    return dict(steps)


@contextmanager
def reading(path: str | Path) -> Iterator[None]:
    """Errors raised while ``path`` is read name it (pandas' parser and the text decoder do not)."""
    try:
        yield
    except DataContractError:
        raise
    except ValueError as error:  # pandas' ParserError and UnicodeDecodeError are ValueErrors
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataContractError(message if str(path) in message else f"{path}: {message}") from None


def read_header(path: str | Path) -> list[str]:
    """Return the column names of a CSV file, refusing missing and empty files."""
    path = Path(path)
    if not path.exists():
        raise DataContractError(f"{path}: file does not exist")
    try:
        with path.open() as handle:
            first = handle.readline().strip()
    except UnicodeDecodeError as error:
        raise DataContractError(f"{path}: not a text CSV file (byte {error.start} is not UTF-8); rebuild it") from None
    if not first:
        raise DataContractError(f"{path}: file is empty (expected a CSV header)")
    return next(csv.reader([first]))


def check_output_columns(path: str | Path, columns: list[str]) -> None:
    """Refuse a test-output table that lacks any required column."""
    missing = [name for name in OUTPUT_COLUMNS if name not in columns]
    if missing:
        raise DataContractError(
            f"{path}: missing required columns {', '.join(missing)} (required: {', '.join(OUTPUT_COLUMNS)})"
        )


def iter_test_outputs(path: str | Path, *, chunksize: int = 500_000) -> Iterator[pd.DataFrame]:
    """Yield a `*_test_outputs.csv` in validated chunks, so tables larger than memory can be streamed."""
    import pandas as pd

    check_output_columns(path, read_header(path))
    n_rows = 0
    try:
        for chunk in pd.read_csv(path, chunksize=chunksize, dtype=OUTPUT_COLUMNS):
            n_rows += len(chunk)
            yield chunk
    except (ValueError, TypeError) as error:
        raise DataContractError(f"{path}: a required column holds a non-numeric value ({error})") from None
    if n_rows == 0:
        raise DataContractError(f"{path}: has a header but no rows")


def read_test_outputs(path: str | Path) -> pd.DataFrame:
    """Read a whole `*_test_outputs.csv` after validating it."""
    import pandas as pd

    return pd.concat(list(iter_test_outputs(path)), ignore_index=True)


@dataclass
class TestResponses:
    """Per-area response summaries and classifier outputs of one test, as numpy arrays."""

    dt: float
    areas: list[str]
    mean: dict[str, np.ndarray]
    std: dict[str, np.ndarray]
    logits: np.ndarray
    labels: np.ndarray
    units: dict[str, np.ndarray] = field(default_factory=dict)

    __test__ = False  # not a pytest test class despite its name

    @property
    def n_samples(self) -> int:
        return self.labels.shape[0]

    @property
    def n_timesteps(self) -> int:
        return self.labels.shape[1]


def _shape(value: Any) -> tuple[int, ...] | None:
    return tuple(value.shape) if hasattr(value, "shape") else None


def load_responses(path: str | Path) -> TestResponses:
    """Read and validate a `*_test_responses.pt` file (needs the `torch` extra)."""
    path = Path(path)
    if not path.exists():
        raise DataContractError(f"{path}: file does not exist")
    if path.stat().st_size == 0:
        raise DataContractError(f"{path}: file is empty")
    try:
        import torch
    except ImportError:
        raise DataContractError(f"{path}: reading responses needs torch (pip install 'dynvision-viz[torch]')") from None
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise DataContractError(f"{path}: not a loadable torch file ({str(error).splitlines()[0]})") from None
    return validate_responses(data, source=str(path))


def validate_responses(data: Any, *, source: str = "responses") -> TestResponses:
    """Check the structure of a loaded responses dictionary and convert it to numpy."""
    if not isinstance(data, dict):
        raise DataContractError(f"{source}: expected a dict, got {type(data).__name__}")
    keys = ("format", "dt", "areas", "responses", "logits", "labels")
    missing = [key for key in keys if key not in data]
    if missing:
        raise DataContractError(f"{source}: missing keys {', '.join(missing)} (required: {', '.join(keys)})")
    if data["format"] != RESPONSES_FORMAT:
        raise DataContractError(f"{source}: format {data['format']!r} is not supported (supported: {RESPONSES_FORMAT})")
    dt = float(data["dt"])
    if not dt > 0:
        raise DataContractError(f"{source}: dt must be positive, got {dt}")
    labels_shape = _shape(data["labels"])
    if labels_shape is None or len(labels_shape) != 2:
        raise DataContractError(f"{source}: labels must have shape [N, T], got {labels_shape}")
    logits_shape = _shape(data["logits"])
    if logits_shape is None or len(logits_shape) != 3 or logits_shape[:2] != labels_shape:
        raise DataContractError(f"{source}: logits shape {logits_shape} does not match labels [N, T] = {labels_shape}")
    areas = list(data["areas"])
    if not areas:
        raise DataContractError(f"{source}: areas is empty")
    responses = data["responses"]
    if not isinstance(responses, dict) or set(responses) != set(areas):
        found = sorted(responses) if isinstance(responses, dict) else type(responses).__name__
        raise DataContractError(f"{source}: responses hold areas {found}, but areas lists {areas}")
    mean, std = {}, {}
    for area in areas:
        for stat, target in (("mean", mean), ("std", std)):
            value = responses[area].get(stat) if isinstance(responses[area], dict) else None
            if _shape(value) != labels_shape:
                raise DataContractError(
                    f"{source}: responses[{area!r}][{stat!r}] has shape {_shape(value)}, expected {labels_shape}"
                )
            target[area] = value.float().numpy() if hasattr(value, "float") else np.asarray(value, dtype=np.float32)
    units = {}
    for area, value in (data.get("units") or {}).items():
        shape = _shape(value)
        if shape is None or shape[:2] != labels_shape:
            raise DataContractError(f"{source}: units[{area!r}] shape {shape} does not start with {labels_shape}")
        units[area] = value.float().numpy() if hasattr(value, "float") else np.asarray(value)

    def to_numpy(value: Any, dtype: type) -> np.ndarray:
        value = value.float() if dtype is np.float32 and hasattr(value, "float") else value
        return value.numpy().astype(dtype) if hasattr(value, "numpy") else np.asarray(value, dtype=dtype)

    return TestResponses(
        dt=dt,
        areas=areas,
        mean=mean,
        std=std,
        logits=to_numpy(data["logits"], np.float32),
        labels=to_numpy(data["labels"], np.int64),
        units=units,
    )
