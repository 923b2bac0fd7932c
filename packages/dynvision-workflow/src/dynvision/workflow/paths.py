"""The output layout of the workflow, in one place for rules, targets and tests.

Every pattern below is the one documented in the user guide; ``{model_args}`` and ``{data_args}``
are encoded argument strings (``:rctype=full+tsteps=20``) or their hashed tokens (see
:mod:`dynvision.workflow.names`), ``{switch_off}`` is empty unless a test switches connections off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dynvision.data.layout import LINK_MARKER
from dynvision.models.ablation import PARTS
from dynvision.viz.compare import COMPARISON_FILES
from dynvision.workflow.provenance import TAG_PATTERN, stimulus_tag, training_tag

HASHED_ARGS_FOLDER = "hashed_args"

NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9.\-]*"
"""A name in a file name (model, dataset, loader, group, experiment, plot): no ``_``, which separates the parts."""
MODEL_STEM = "{model_name}{model_args}_{seed}_{data_name}"
"""One network of a sweep; its files add ``_{status}``."""
CONFIG_STATUS_PATTERN = r"init|pretrained|trained|epoch=[1-9][0-9]*"
"""The states a network is saved in: initialised, loaded from registered weights, trained, and after epoch N of
training (``epoch=N``)."""
STATUS_PATTERN = rf"init|pretrained|(?:trained|epoch=[1-9][0-9]*)(?:{TAG_PATTERN})?"
"""A status in a file name: trained ones carry the tag of their training settings (:mod:`provenance`)."""
TEST_STEM = MODEL_STEM + "_{status}{switch_off}_{data_loader}{data_args}_{data_group}"
"""One test of one network: a data loader with its arguments on a class group, some connections switched off."""
FIGURE_STEM = "{experiment}_" + MODEL_STEM + "_{status}{switch_off}_{data_group}"
"""The figures of one experiment for one network, status, switch-off setting and group."""
COMPARISON_STEM = "comparison_{sweep}"
"""The comparison of every network of an experiment's sweep; ``{sweep}`` names the swept keys and a hash of the
networks (``rctype-1f3a9c0e``), so two sweeps never share a folder."""
SWITCH_OFF_PATTERN = "".join(f"(?:-no{part})?" for part in PARTS)
"""``{switch_off}`` of test and figure names: ``-no<part>`` per part switched off, in the order of ``PARTS``."""


def switch_off_tag(parts: tuple[str, ...]) -> str:
    """``{switch_off}`` of a test with ``parts`` switched off: ``-norecurrence-noskip``; empty when none are."""
    return "".join(f"-no{part}" for part in PARTS if part in parts)


def tag_parts(tag: str) -> tuple[str, ...]:
    """The parts a ``{switch_off}`` tag switches off (the inverse of :func:`switch_off_tag`)."""
    return tuple(tag.split("-no")[1:])


def file_status(status: str, tag: str) -> str:
    """The file-name form of a config status: ``trained`` and ``epoch=N`` with the training ``tag``."""
    return status if status in ("init", "pretrained") else status + tag


def status_file(model_file: str | Path, status: str) -> Path:
    """The file of the same network (and training) in another status: ``..._trained~3f9a1c2e.pt`` ->
    ``..._epoch=2~3f9a1c2e.pt``."""
    path = Path(model_file)
    stem, _, current = path.stem.rpartition("_")
    if not stem or not re.fullmatch(STATUS_PATTERN, current):
        raise ValueError(f"{path.name} does not end in _<status>{path.suffix} (init, pretrained, trained or epoch=N)")
    tag = re.search(TAG_PATTERN + "$", current)
    return path.with_name(f"{stem}_{file_status(status, tag.group() if tag else '')}{path.suffix}")


@dataclass(frozen=True)
class DataPaths:
    """The data layout of dynvision-data (raw downloads, linked subsets, FFCV files)."""

    root: Path

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def interim(self) -> Path:
        return self.root / "interim"

    @property
    def processed(self) -> Path:
        return self.root / "processed"

    def link(self, data_name: str, subset: str) -> Path:
        """The marker `dynvision-data link` writes for a subset (`train_all`, `test_{group}`)."""
        return self.interim / data_name / subset / LINK_MARKER

    def beton(self, data_name: str, split: str) -> Path:
        """The FFCV file `dynvision-data convert` writes for split `train` or `val`."""
        return self.processed / data_name / "train_all" / f"{split}.beton"


@dataclass(frozen=True)
class ProjectPaths:
    """Folders and file patterns of a workflow run, relative to its working directory."""

    data: DataPaths
    models: Path
    reports: Path
    logs: Path
    training_tag: str = ""
    """The tag of the run's training settings (:mod:`dynvision.workflow.provenance`)."""
    stimulus_tag: str = ""
    """The tag of the run's ``data_args`` variation, on its figure folders (:mod:`dynvision.workflow.provenance`)."""

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ProjectPaths:
        return cls(
            data=DataPaths(Path(config.get("data_root", "data"))),
            models=Path(config.get("models_dir", "models")),
            reports=Path(config.get("reports_dir", "reports")),
            logs=Path(config.get("logs_dir", "logs")),
            training_tag=training_tag(config),
            stimulus_tag=stimulus_tag(config),
        )

    @property
    def figures(self) -> Path:
        return self.reports / "figures"

    @property
    def benchmarks(self) -> Path:
        return self.logs / "benchmarks"

    def model(self, status: str = "{status}") -> str:
        """A model file; a status given as in the config (``trained``) gets this run's training tag."""
        status = status if status == "{status}" else file_status(status, self.training_tag)
        return str(self.models / "{model_name}" / f"{MODEL_STEM}_{status}.pt")

    def responses(self) -> str:
        return str(self.models / "{model_name}" / f"{TEST_STEM}_test_responses.pt")

    def outputs(self) -> str:
        return str(self.reports / "{model_name}" / f"{TEST_STEM}_test_outputs.csv")

    @property
    def figure_stem(self) -> str:
        """The name of a figure folder (and of its logs): the guide's, with the stimulus tag of the run."""
        return FIGURE_STEM + self.stimulus_tag

    def figure_folder(self) -> str:
        return str(self.figures / "{experiment}" / self.figure_stem)

    def figure_data(self) -> str:
        """The tidy table of all levels of an experiment that every plot of the folder is drawn from."""
        return str(Path(self.figure_folder()) / "data.csv")

    def figure(self, suffix: str = ".png") -> str:
        """One plot of a figure folder: the PNG (what the report shows) or its vector copy (``.pdf``)."""
        return str(Path(self.figure_folder()) / f"{{plot}}{suffix}")

    def comparison_folder(self) -> str:
        return str(self.figures / "{experiment}" / COMPARISON_STEM)

    def comparison_files(self) -> list[str]:
        """What `dynvision-viz compare` writes into a comparison folder."""
        return [str(Path(self.comparison_folder()) / name) for name in COMPARISON_FILES]

    def experiment_done(self) -> str:
        return str(self.reports / "experiment_{experiment}.done")

    def experiment_record(self) -> str:
        """The configuration an experiment ran with, written beside its ``.done`` flag."""
        return str(self.reports / "experiment_{experiment}.config.yaml")

    def checkpoints(self) -> str:
        return str(self.models / "{model_name}" / "checkpoints" / (MODEL_STEM + self.training_tag))

    def training_logs(self) -> str:
        """Lightning's log folder of one training run."""
        return str(self.logs / "lightning" / (MODEL_STEM + self.training_tag))

    def training_metrics(self) -> str:
        """The metrics per epoch of one training run (what the training figure draws)."""
        return str(Path(self.training_logs()) / "metrics.csv")

    def log(self, rule: str, stem: str) -> str:
        """The log file of one job of ``rule``; ``stem`` is the pattern of its wildcards."""
        return str(self.logs / rule / f"{stem}.log")

    def benchmark(self, rule: str, stem: str) -> str:
        return str(self.benchmarks / rule / f"{stem}.tsv")

    def hashed_args(self, token: str = "{token}") -> str:
        """The index entry of one hashed argument token: which argument string it stands for."""
        return str(self.models / HASHED_ARGS_FOLDER / f"{token}.yaml")


def sidecar(path: str | Path) -> Path:
    """``<output without suffix>.config.yaml``: where the parameters of an output are written."""
    path = Path(path)
    return path.with_name(path.stem + ".config.yaml")
