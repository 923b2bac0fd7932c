"""Named plots drawn from files: what `dynvision-viz plot NAME --input FILE` reads and which figure it makes.

Tables are reduced with `summarise_table` before plotting, so an experiment table of any size is read in
chunks and only one row per (condition, area, time) reaches matplotlib.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dynvision.viz.contract import RESPONSE_DELAY, DataContractError, class_names_of, read_header, reading
from dynvision.viz.measures import CONTROL

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

RESPONSE_MEASURES = ("onset_latency", "peak_latency", "peak_response", "integrated_response", "repetition_ratio")
ACCURACY_MEASURES = ("end_accuracy", "accuracy", "time_to_criterion")
"""Accuracy at the last frame with a stimulus (the default), averaged over every frame with one (including those
before the read-out has responded), and time to criterion."""
DEFAULT_MEASURES = {
    "contrast": ("peak_response", "naka-rushton"),
    **dict.fromkeys(("stim", "stimms"), ("integrated_response", "power-law")),
    **dict.fromkeys(("interval", "intervalms"), ("repetition_ratio", "none")),
}
"""Summary measure and fit per swept parameter (durations in frames or in ms); any other parameter (noise,
ssnr, ...) shows the accuracy at the end of the stimulus."""

DELAY_ARGS = {
    "feedforward": ("tff", "t_feedforward"),
    "recurrence": ("trc", "t_recurrence"),
    "skip": ("tsk", "t_skip"),
    "feedback": ("tfb", "t_feedback"),
}


@dataclass(frozen=True)
class PlotOptions:
    """Options of `dynvision-viz plot`; each plot uses the ones that apply to it."""

    parameter: str | None = None
    hue: str | None = None
    measure: str | None = None
    fit: str | None = None
    area: str | None = None
    criterion: float = 0.5


def _summary(path: Path, by: list[str], values: list[str], *, area: str | None = None) -> pd.DataFrame:
    from dynvision.viz.process import summarise_table

    header = read_header(path)
    values = [name for name in values if name not in ("stimulus_on", RESPONSE_DELAY) or name in header]
    table = summarise_table(path, list(dict.fromkeys(name for name in by if name)), values)
    if area is not None:
        if area not in set(table["area"]):
            raise ValueError(f"area {area!r} is not in {path} (areas: {', '.join(map(str, table['area'].unique()))})")
        table = table[table["area"] == area]
    return table


def _require_responses(path: Path) -> None:
    header = read_header(path)
    if "area" not in header or "response_mean" not in header:
        raise DataContractError(
            f"{path}: has no area responses (aggregate the *_test_responses.pt files together with the outputs)"
        )


def _chance(path: Path) -> float | None:
    """The chance accuracy of a table's read-out, from its first row (see `figures.chance_of`)."""
    import pandas as pd

    from dynvision.viz.figures import chance_of

    return chance_of(pd.read_csv(path, nrows=1)) if "n_classes" in read_header(path) else None


def _hue(options: PlotOptions) -> str | None:
    return options.hue or options.parameter or None


def _control(path: Path) -> str | None:
    """The column of single-presentation controls (`repeat`) where the table has one: kept apart in figures."""
    return CONTROL if CONTROL in read_header(path) else None


def responses(path: Path, options: PlotOptions) -> Figure:
    from dynvision.viz.figures import plot_responses

    _require_responses(path)
    hue, control = _hue(options), _control(path)
    by = [hue, control, "area", "time_ms"]
    table = _summary(path, by, ["response_mean", "stimulus_on"], area=options.area)
    return plot_responses(table, hue=hue, control=control)


def performance(path: Path, options: PlotOptions) -> Figure:
    from dynvision.viz.figures import plot_performance

    hue, control = _hue(options), _control(path)
    table = _summary(path, [hue, control, "time_ms"], ["correct", "guess_confidence", "stimulus_on"])
    accuracy = table.rename(columns={"correct": "accuracy"})
    return plot_performance(accuracy, hue=hue, chance=_chance(path), control=control)


def summary(path: Path, options: PlotOptions) -> Figure:
    from dynvision.viz.figures import plot_summary
    from dynvision.viz.measures import criterion_table, end_accuracy_table, latency_table, repetition_table

    parameter = options.parameter
    if not parameter:
        raise ValueError("plot summary needs --parameter (the swept parameter on the x axis)")
    measure, fit = DEFAULT_MEASURES.get(parameter, ("end_accuracy", "none"))
    measure, fit = options.measure or measure, options.fit or (fit if options.measure is None else "none")
    if measure in RESPONSE_MEASURES:
        _require_responses(path)
        hue = options.hue or "area"
        # repetition pairs each condition with its control (`repeat` false), so the summary keeps them apart
        control = [CONTROL] if measure == "repetition_ratio" and _control(path) else []
        values = ["response_mean", "stimulus_on", RESPONSE_DELAY]
        course = _summary(path, [parameter, hue, *control, "area", "time_ms"], values, area=options.area)
        if hue != "area" and course["area"].nunique() > 1:
            raise ValueError(f"several areas in {path}: choose one with --area to colour by {hue!r}")
        table = (repetition_table if measure == "repetition_ratio" else latency_table)(course, [parameter, hue])
    elif measure in ACCURACY_MEASURES:
        hue = options.hue
        course = _summary(path, [parameter, hue, "time_ms"], ["correct", "stimulus_on"])
        if "stimulus_on" in course:  # blank frames carry no label: a guess there is neither right nor wrong
            course = course[course["stimulus_on"] > 0]
        by = [parameter, *([hue] if hue else [])]
        if measure == "accuracy":
            table = course.groupby(by)["correct"].mean().rename("accuracy").reset_index()
        elif measure == "end_accuracy":
            table = end_accuracy_table(course, by)
        else:
            table = criterion_table(course, by, criterion=options.criterion)
    else:
        valid = ", ".join((*RESPONSE_MEASURES, *ACCURACY_MEASURES))
        raise ValueError(f"unknown measure {measure!r} (valid: {valid})")
    return plot_summary(table, parameter=parameter, measure=measure, hue=hue, fit=fit, chance=_chance(path))


def latency(path: Path, options: PlotOptions) -> Figure:
    """Each area's half-rise latency against the swept parameter (contrast: later at low contrast)."""
    return summary(path, replace(options, measure="onset_latency", fit="none"))


def training(path: Path, options: PlotOptions) -> Figure:
    from dynvision.viz.figures import plot_training, read_training_log

    return plot_training(read_training_log(path))


def load_weights(path: Path) -> dict[str, np.ndarray]:
    """Weights per connection type from a `.npz` (name -> array) or a model file's `state_dict`.

    Model parameters are sorted by name: `skip`, `feedback` and recurrence (`rec`) modules by their module
    name, every other weight with two or more dimensions (convolutions, classifier) as feedforward.
    """
    if path.suffix == ".npz":
        with np.load(path) as archive:
            return {name: archive[name].ravel() for name in archive.files}
    import torch

    record = torch.load(path, map_location="cpu", weights_only=True)
    state = record.get("state_dict", record) if isinstance(record, dict) else None
    if not isinstance(state, dict):
        raise DataContractError(f"{path}: expected a state dict or a model file with 'state_dict'")
    groups: dict[str, list[np.ndarray]] = {}
    for name, tensor in state.items():
        if not hasattr(tensor, "dim") or tensor.dim() < 2 or not tensor.is_floating_point():
            continue
        parts = name.split(".")
        kind = next(
            (kind for kind, key in (("skip", "skip"), ("feedback", "feedback"), ("recurrence", "rec")) if key in parts),
            "feedforward",
        )
        groups.setdefault(kind, []).append(tensor.float().numpy().ravel())
    if not groups:
        raise DataContractError(f"{path}: holds no weight tensors")
    return {kind: np.concatenate(groups[kind]) for kind in DELAY_ARGS if kind in groups}


def weights(path: Path, options: PlotOptions) -> Figure:
    from dynvision.viz.figures import plot_weights

    return plot_weights(load_weights(path))


def confusion(path: Path, options: PlotOptions) -> Figure:
    """Confusion at each sample's last time step, read in chunks (one area suffices: guesses repeat per area)."""
    import pandas as pd

    from dynvision.viz.figures import confusion_matrix, plot_confusion
    from dynvision.viz.process import CHUNKSIZE

    header = read_header(path)
    columns = ["times_index", "first_label_index", "guess_index", *(["area"] if "area" in header else [])]
    last_time, kept, first_area = -1, [], None
    for chunk in pd.read_csv(path, usecols=columns, chunksize=CHUNKSIZE):
        if "area" in chunk:
            first_area = chunk["area"].iloc[0] if first_area is None else first_area
            chunk = chunk[chunk["area"] == first_area]
        chunk_last = int(chunk["times_index"].max()) if len(chunk) else -1
        if chunk_last > last_time:
            last_time, kept = chunk_last, []
        kept.append(chunk[chunk["times_index"] == last_time])
    final = pd.concat(kept)
    names = class_names_of(path)
    matrix = confusion_matrix(final["first_label_index"], final["guess_index"], len(names) if names else None)
    return plot_confusion(matrix, class_names=names)


def _first_row(path: Path) -> dict[str, Any]:
    if path.suffix in (".yaml", ".yml"):
        import yaml

        config = yaml.safe_load(path.read_text()) or {}
        return {**config, **(config.get("dynamics") or {}), **(config.get("model_args") or {})}
    import pandas as pd

    return pd.read_csv(path, nrows=1).iloc[0].to_dict()


def unrolling(path: Path, options: PlotOptions) -> Figure:
    """Unrolling diagram from a sidecar config or a table with the model's dt, time steps and delays."""
    from dynvision.viz.figures import plot_unrolling

    row = _first_row(path)
    dt = row.get("dt")
    n_timesteps = row.get("n_timesteps") or row.get("tsteps")
    if dt is None or n_timesteps is None:
        raise DataContractError(f"{path}: needs dt and n_timesteps (or tsteps) for the unrolling diagram")
    delays = {}
    for kind, names in DELAY_ARGS.items():
        value = next((row[name] for name in names if row.get(name) is not None and row[name] == row[name]), None)
        if value is not None:
            delays[kind] = float(value)
    if not delays:
        expected = ", ".join(name for names in DELAY_ARGS.values() for name in names)
        raise DataContractError(f"{path}: names no connection delays (any of {expected})")
    return plot_unrolling(_areas_of(path), n_timesteps=int(n_timesteps), dt=float(dt), delays=delays)


def _areas_of(path: Path) -> list[str]:
    """Areas named in a table's `area` column (in configured order), else the four areas of DyRCNN models."""
    if path.suffix != ".csv" or "area" not in read_header(path):
        return ["V1", "V2", "V4", "IT"]
    import pandas as pd

    from dynvision.viz.process import CHUNKSIZE
    from dynvision.viz.style import load_config

    found: set[str] = set()
    for chunk in pd.read_csv(path, usecols=["area"], chunksize=CHUNKSIZE):
        found.update(chunk["area"].dropna().astype(str))
    known = list(load_config()["palettes"].get("area", {}))
    return sorted(found, key=lambda area: (known.index(area) if area in known else len(known), area))


PLOTS: dict[str, tuple[Callable[[Path, PlotOptions], Figure], str]] = {
    "responses": (responses, "response over time per area, one line per condition (experiment table)"),
    "performance": (performance, "accuracy and confidence over time per condition (experiment table)"),
    "summary": (summary, "summary measure vs the swept parameter with its fit (experiment table)"),
    "latency": (latency, "each area's half-rise latency vs the swept parameter (experiment table)"),
    "training": (training, "losses and accuracies per epoch (Lightning metrics.csv)"),
    "weights": (weights, "weight distribution per connection type (model .pt or .npz)"),
    "confusion": (confusion, "confusion matrix at the last time step, classes named by the table's sidecar"),
    "unrolling": (unrolling, "engineering vs biological time with delays (sidecar .config.yaml or table)"),
}


def draw(name: str, path: str | Path, options: PlotOptions | None = None) -> Figure:
    """Draw plot `name` from the file at `path`; unknown names and missing files fail before any reading."""
    if name not in PLOTS:
        raise ValueError(f"unknown plot {name!r} (valid: {', '.join(PLOTS)})")
    path = Path(path)
    if not path.exists():
        raise DataContractError(f"{path}: file does not exist")
    with reading(path):
        return PLOTS[name][0](path, options or PlotOptions())
