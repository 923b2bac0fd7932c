"""From test outputs to tidy tables: one test -> per-(sample, time, area) rows; many tests -> one experiment table.

Both steps stream their input in chunks and append CSV to a temporary file that is renamed at the end, so memory
stays bounded by the chunk size (not by the sweep size) and a crash never leaves a half-written table behind.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from dynvision.viz.contract import (
    RESPONSE_DELAY,
    SIDECAR_OPTIONAL,
    DataContractError,
    TestResponses,
    check_output_columns,
    class_names_of,
    first_response_steps,
    iter_test_outputs,
    load_responses,
    load_sidecar,
    read_header,
    reading,
    sidecar_path,
    write_sidecar,
)
from dynvision.viz.files import atomic_path

if TYPE_CHECKING:
    import pandas as pd

CHUNKSIZE = 500_000
FRONT_COLUMNS = ("model_name", "seed", "status", "data_name", "data_loader", "data_group")


def tidy_columns(raw_columns: Sequence[str], with_areas: bool) -> list[str]:
    """Column order of a tidy table: identifiers, time, area, the test's own columns, then derived measures."""
    if "time_ms" in raw_columns:  # already tidy
        return list(raw_columns)
    front = ["sample_index", "times_index", "time_ms", *(["area"] if with_areas else [])]
    back = ["stimulus_on", "correct", *(["response_mean", "response_std", RESPONSE_DELAY] if with_areas else [])]
    return front + [name for name in raw_columns if name not in front and name not in back] + back


def tidy_chunk(
    outputs: pd.DataFrame,
    dt: float,
    responses: TestResponses | None = None,
    delays: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Turn rows of a test-output table into tidy rows, one per area when responses are given.

    `correct` compares the guess with the first label shown, so accuracy stays defined on blank frames
    (label -1), where a recurrent model may still hold the answer. Each area row carries the area's
    `response_delay_ms` from `delays` (0 for an area it does not name).
    """
    import pandas as pd

    columns = tidy_columns(list(outputs.columns), responses is not None)
    tidy = outputs.copy()
    tidy["time_ms"] = tidy["times_index"].to_numpy() * dt
    tidy["stimulus_on"] = tidy["label_index"].to_numpy() >= 0
    tidy["correct"] = (tidy["guess_index"].to_numpy() == tidy["first_label_index"].to_numpy()).astype(np.int8)
    if responses is None:
        return tidy[columns]
    samples, times = tidy["sample_index"].to_numpy(), tidy["times_index"].to_numpy()
    if samples.min() < 0 or samples.max() >= responses.n_samples:
        raise DataContractError(
            f"sample_index {samples.min()}..{samples.max()} exceeds the {responses.n_samples} samples of the responses"
        )
    if times.min() < 0 or times.max() >= responses.n_timesteps:
        raise DataContractError(
            f"times_index {times.min()}..{times.max()} exceeds the {responses.n_timesteps} time steps of the responses"
        )
    per_area = []
    for area in responses.areas:
        part = tidy.assign(
            area=area,
            response_mean=responses.mean[area][samples, times],
            response_std=responses.std[area][samples, times],
            **{RESPONSE_DELAY: float((delays or {}).get(area, 0.0))},
        )
        per_area.append(part[columns])
    return pd.concat(per_area, ignore_index=True)


def iter_tidy_test(
    outputs_path: str | Path,
    responses_path: str | Path | None = None,
    *,
    dt: float | None = None,
    chunksize: int = CHUNKSIZE,
) -> Iterator[pd.DataFrame]:
    """Yield the tidy table of one test chunk by chunk.

    dt (ms per time step) comes from the argument, else the responses file, else the sidecar config. Each
    area's response delay is its sidecar's `dynamics.first_response_step` x dt (0 without a sidecar).
    """
    check_output_columns(outputs_path, read_header(outputs_path))
    responses = load_responses(responses_path) if responses_path is not None else None
    config = load_sidecar(outputs_path, required=False) if responses is not None or dt is None else {}
    if dt is None:
        dt = responses.dt if responses is not None else config.get("dt")
    if dt is None:
        raise DataContractError(f"{outputs_path}: dt is unknown (give dt, a responses file or a sidecar with dt)")
    steps = first_response_steps(config, source=str(sidecar_path(outputs_path)))
    delays = {area: step * float(dt) for area, step in steps.items()}
    n_rows = 0
    if responses is not None:  # each row becomes one row per area: keep the tidy chunk at `chunksize` rows
        chunksize = max(1, chunksize // len(responses.areas))
    for chunk in iter_test_outputs(outputs_path, chunksize=chunksize):
        n_rows += len(chunk)
        yield tidy_chunk(chunk, float(dt), responses, delays)
    if responses is not None and n_rows != responses.n_samples * responses.n_timesteps:
        raise DataContractError(
            f"{outputs_path}: has {n_rows} rows but the responses hold {responses.n_samples} samples x "
            f"{responses.n_timesteps} time steps = {responses.n_samples * responses.n_timesteps}"
        )


def tidy_test(
    outputs_path: str | Path, responses_path: str | Path | None = None, *, dt: float | None = None
) -> pd.DataFrame:
    """Return the whole tidy table of one test (see `iter_tidy_test`)."""
    import pandas as pd

    return pd.concat(list(iter_tidy_test(outputs_path, responses_path, dt=dt)), ignore_index=True)


def process_test(
    outputs_path: str | Path,
    output: str | Path,
    responses_path: str | Path | None = None,
    *,
    dt: float | None = None,
    chunksize: int = CHUNKSIZE,
) -> int:
    """Write the tidy table of one test to `output` (CSV) and carry its sidecar along; return the row count."""
    n_rows = 0
    with atomic_path(output) as temporary, reading(outputs_path):
        for index, chunk in enumerate(iter_tidy_test(outputs_path, responses_path, dt=dt, chunksize=chunksize)):
            chunk.to_csv(temporary, mode="w" if index == 0 else "a", header=index == 0, index=False)
            n_rows += len(chunk)
    if sidecar_path(outputs_path).exists():
        shutil.copyfile(sidecar_path(outputs_path), sidecar_path(output))
    return n_rows


def _scalar(value: Any) -> Any:
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


def experiment_columns(config: dict[str, Any]) -> dict[str, Any]:
    """Flatten a sidecar into the constant columns of its test: identity, then model args, then data args.

    An argument whose name is already taken gets a `model_` or `data_` prefix rather than overwriting it.
    """
    columns: dict[str, Any] = {"model_name": config["model_name"], "seed": str(config["seed"])}
    columns["status"] = config["status"]
    for key in SIDECAR_OPTIONAL:
        if key in config:
            columns[key] = _scalar(config[key])
    for prefix, arguments in (("model_", config["model_args"]), ("data_", config["data_args"])):
        for key, value in arguments.items():
            columns[f"{prefix}{key}" if key in columns else key] = _scalar(value)
    return columns


def _union(lists: Iterable[Sequence[str]]) -> list[str]:
    return list(dict.fromkeys(name for names in lists for name in names))


def name_of_test(path: str | Path) -> str:
    """Name shared by the outputs and responses of one test (without `_test_outputs.csv` / `_test_responses.pt`)."""
    name = Path(path).name
    for suffix in ("_test_outputs.csv", "_test_responses.pt"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return Path(path).stem


def pair_responses(inputs: Sequence[str | Path]) -> list[tuple[Path, Path | None]]:
    """Split inputs into tables and the responses of the same test (`.pt` files matched by test name)."""
    tables = [Path(path) for path in inputs if Path(path).suffix != ".pt"]
    responses = {name_of_test(path): Path(path) for path in inputs if Path(path).suffix == ".pt"}
    unmatched = sorted(set(responses) - {name_of_test(path) for path in tables})
    if unmatched:
        raise DataContractError(f"responses without a test-output table: {', '.join(unmatched)}")
    return [(table, responses.get(name_of_test(table))) for table in tables]


def _csv_row(values: Sequence[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


def _write_with_prefix(handle: IO[str], prefix: str, chunk: pd.DataFrame) -> None:
    """Append `chunk` as CSV rows that start with the test's constant columns.

    The constants are formatted once per test instead of once per row, which halves the time spent writing.
    """
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    text = chunk.to_csv(header=False, index=False, lineterminator="\n")
    numeric = all(is_numeric_dtype(dtype) or is_bool_dtype(dtype) for dtype in chunk.dtypes)
    records = text.splitlines(keepends=True) if numeric else _records(text)
    start = prefix.rstrip("\n")
    handle.write("".join(f"{start},{record}" for record in records))


def _records(text: str) -> list[str]:
    """Split CSV text into records, keeping line breaks that sit inside quoted fields."""
    records, current = [], ""
    for line in text.splitlines(keepends=True):
        current += line
        if current.count('"') % 2 == 0:
            records.append(current)
            current = ""
    return records


def aggregate_tests(
    inputs: Sequence[str | Path],
    output: str | Path,
    *,
    experiment: str | None = None,
    parameter: str | None = None,
    chunksize: int = CHUNKSIZE,
    progress: bool = False,
) -> int:
    """Concatenate the tests of an experiment into one tidy table with each test's parameters as columns.

    Inputs are test-output CSVs (tidied on the way, with area responses when the test's `.pt` file is among
    the inputs) or tables `process` already tidied. Every header and sidecar is checked, and the swept
    `parameter` looked up, before the first row is written; the result has the union of all columns (missing
    ones left empty) and every row of every input. Returns the number of rows written.
    """
    import pandas as pd

    pairs = pair_responses(inputs)
    if not pairs:
        raise DataContractError("no input tables to aggregate")
    raw_headers, headers, parameters = [], [], []
    for table, responses in pairs:
        header = read_header(table)
        check_output_columns(table, header)
        raw_headers.append(header)
        headers.append(tidy_columns(header, responses is not None or "area" in header))
        constants = experiment_columns(load_sidecar(table))
        parameters.append({"experiment": experiment, **constants} if experiment else constants)
    parameter_names = _union(parameters)
    if parameter and parameter not in parameter_names:
        raise DataContractError(
            f"swept parameter {parameter!r} is in no sidecar (parameters: {', '.join(parameter_names)})"
        )
    data_names = [name for name in _union(headers) if name not in parameter_names]
    front = [name for name in ("experiment", *FRONT_COLUMNS) if name in parameter_names]
    parameter_names = front + [name for name in parameter_names if name not in front]

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(pairs), unit="test", desc="aggregate")
    n_rows = 0
    with atomic_path(output) as temporary, temporary.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerow(parameter_names + data_names)
        for (table, responses), header, constants in zip(pairs, raw_headers, parameters, strict=True):
            if "time_ms" in header:
                chunks = pd.read_csv(table, chunksize=chunksize)
            else:
                chunks = iter_tidy_test(table, responses, dt=constants.get("dt"), chunksize=chunksize)
            prefix = _csv_row([constants.get(name) for name in parameter_names])
            for chunk in chunks:
                _write_with_prefix(handle, prefix, chunk.reindex(columns=data_names))
                n_rows += len(chunk)
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.close()
    names = {tuple(class_names_of(table) or ()) for table, _ in pairs}
    if len(names) == 1 and () not in names:  # what every test shares and a table cannot hold: the class names
        write_sidecar(output, {"class_names": list(names.pop())})
    return n_rows


def summarise_table(
    path: str | Path,
    by: Sequence[str],
    values: Sequence[str],
    *,
    chunksize: int = CHUNKSIZE,
) -> pd.DataFrame:
    """Mean and standard error of `values` per group of `by`, streamed over a table of any size.

    Plots need one point per (condition, time, area), not millions of rows; sums and counts are accumulated
    chunk by chunk so the full table never sits in memory.
    """
    import pandas as pd

    header = read_header(path)
    missing = [name for name in [*by, *values] if name not in header]
    if missing:
        raise DataContractError(f"{path}: missing columns {', '.join(missing)} (available: {', '.join(header)})")
    totals = None
    for chunk in pd.read_csv(path, usecols=[*by, *values], chunksize=chunksize):
        chunk = chunk.astype(dict.fromkeys(values, "float64"))
        squares = (chunk[list(values)] ** 2).add_suffix("__sq")
        part = pd.concat([chunk, squares], axis=1).groupby(list(by), dropna=False).agg(["sum", "count"])
        totals = part if totals is None else totals.add(part, fill_value=0)
    summary = pd.DataFrame(index=totals.index)
    for name in values:
        count = totals[(name, "count")]
        mean = totals[(name, "sum")] / count
        variance = (totals[(f"{name}__sq", "sum")] / count - mean**2).clip(lower=0) * count / (count - 1)
        summary[name] = mean
        summary[f"{name}_sem"] = np.sqrt(variance / count)
    return summary.reset_index()
