"""Which files a target needs: the parameter sweep of a config turned into concrete paths.

The Snakefiles ask one :class:`WorkflowPlan` for their targets and for the parameters behind a
file name, so the sweep logic lives (and is tested) here rather than in lambdas over the rules.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from dynvision.workflow.arguments import args_product, decode_args, model_args_canonical
from dynvision.workflow.config import as_list
from dynvision.workflow.controls import DEFAULT_STATUS, NO_SWITCH_OFF, epoch_status, saved_epochs, switch_off_parts
from dynvision.workflow.names import TOKEN_PATTERN, ArgsIndex, check_name_length, name_max
from dynvision.workflow.paths import (
    HASHED_ARGS_FOLDER,
    TEST_STEM,
    ProjectPaths,
    file_status,
    sidecar,
    switch_off_tag,
)
from dynvision.workflow.pretrained import PRETRAINED_STATUS, dataset_weights

SWEEP_KEYS = {"model_name": "model", "seed": "seed", "data_name": "data", "data_group": "group"}
"""How a swept top-level key is named in a comparison folder (``_`` separates the parts of file names)."""


@dataclass(frozen=True)
class ModelKey:
    """One trained network of a sweep (the fields of its file name)."""

    model_name: str
    model_args: str
    seed: str
    data_name: str


class WorkflowPlan:
    """Targets and parameters of one validated configuration."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.paths = ProjectPaths.from_config(config)
        self.index = ArgsIndex(self.paths.models / HASHED_ARGS_FOLDER)
        self.limit = name_max(self.paths.models if self.paths.models.exists() else ".")
        self.model_args()  # every token of the sweep is known from the start (hashing writes nothing)
        for experiment in self.all_experiments():
            self.data_args(experiment)

    # --- arguments -------------------------------------------------------------------------
    def shorten(self, encoded: str) -> str:
        """The file-name form of an encoded argument string (hashed when long)."""
        return self.index.shorten(encoded)

    def args_text(self, shortened: str) -> str:
        """The encoded argument string behind a file-name form (``:rctype=full``)."""
        return self.index.expand(shortened)

    def index_entries(self, *shortened: str) -> list[str]:
        """The index entry files of those file-name forms that are hashed tokens (what a job writes)."""
        return [self.paths.hashed_args(token) for token in shortened if re.fullmatch(TOKEN_PATTERN, token)]

    def index_input(self, wildcard: str) -> Callable[[Any], list[str]] | list[str]:
        """A rule's input of index entries for one argument wildcard; none when the sweep hashes nothing
        (Snakemake then calls no input function per job)."""
        if not self.index.tokens:
            return []
        return lambda wildcards: self.index_entries(getattr(wildcards, wildcard))

    def args_dict(self, shortened: str) -> dict[str, Any]:
        """The arguments behind a file-name form, as a dict."""
        return decode_args(self.args_text(shortened))

    def model_args(self) -> list[str]:
        """File-name forms of every model-argument combination of the sweep."""
        encoded = args_product(self.config.get("model_args") or {}, model_args_canonical)
        return [self.shorten(text) for text in encoded]

    def experiment(self, name: str) -> dict[str, Any]:
        """The settings of one experiment, with the top-level ``data_args`` merged in and ``status`` and
        ``switch_off`` as lists."""
        experiment = dict(self.config["experiment_config"][name])
        data_args = experiment.get("data_args") or {}
        if isinstance(data_args, dict):
            data_args = {**data_args, **(self.config.get("data_args") or {})}
        experiment["data_args"] = data_args
        experiment["status"] = [str(status) for status in as_list(experiment.get("status", DEFAULT_STATUS))]
        experiment["switch_off"] = [str(setting) for setting in as_list(experiment.get("switch_off", NO_SWITCH_OFF))]
        experiment.setdefault("plots", self.config.get("plots") or [])
        return experiment

    def file_status(self, status: str) -> str:
        """A config status (``trained``) as file names write it in this run (``trained~3f9a1c2e`` for other than
        the shipped training settings, :mod:`dynvision.workflow.provenance`)."""
        return file_status(status, self.paths.training_tag)

    def variants(self, experiment: str) -> list[tuple[str, str]]:
        """``(status, switch_off tag)`` of every test of one network in an experiment, the status in its file-name
        form (with the training tag, :mod:`dynvision.workflow.provenance`)."""
        settings = self.experiment(experiment)
        tags = dict.fromkeys(switch_off_tag(switch_off_parts(setting)) for setting in settings["switch_off"])
        statuses = dict.fromkeys(self.file_status(status) for status in settings["status"])
        return list(itertools.product(statuses, tags))

    def data_args(self, experiment: str) -> list[str]:
        """File-name forms of every data-argument combination of an experiment."""
        return [self.shorten(encoded) for encoded in args_product(self.experiment(experiment)["data_args"])]

    # --- sweeps ----------------------------------------------------------------------------
    def experiments(self) -> list[str]:
        """The experiments of the ``experiment`` key."""
        return [str(name) for name in as_list(self.config["experiment"])]

    def all_experiments(self) -> list[str]:
        """Every experiment of config_experiments.yaml."""
        return list(self.config["experiment_config"])

    def models(self, *, model_args: list[str] | None = None) -> Iterator[ModelKey]:
        """Every network of the sweep (model names x argument combinations x seeds x datasets)."""
        combos = itertools.product(
            as_list(self.config["model_name"]),
            self.model_args() if model_args is None else model_args,
            as_list(self.config["seed"]),
            as_list(self.config["data_name"]),
        )
        for model_name, args, seed, data_name in combos:
            yield ModelKey(str(model_name), args, str(seed), str(data_name))

    def groups(self) -> list[str]:
        return [str(group) for group in as_list(self.config["data_group"])]

    # --- files -----------------------------------------------------------------------------
    def data_definition(self, data_name: str, subset: str = "") -> Any:
        """What a dataset (or one of its subsets: ``train_all``, ``test_<group>``) is made of in the config: the
        dataset's own entry, or the group's class list. A rule with it as a param reruns when it changes."""
        if not subset:
            return (self.config.get("datasets") or {}).get(data_name)
        group = subset.removeprefix("test_") if subset.startswith("test_") else "all"
        return ((self.config.get("data_groups") or {}).get(data_name) or {}).get(group, "all")

    def model_file(self, key: ModelKey, status: str) -> str:
        return self.paths.model().format(status=status, **vars(key))

    def epoch_models(self) -> list[str]:
        """Patterns of the model files training saves along the way (:meth:`saved_epochs`)."""
        return [self.paths.model(epoch_status(epoch)) for epoch in self.saved_epochs()]

    def saved_epochs(self) -> list[int]:
        """The epochs training saves: every ``save_every``-th and every one an experiment of the config tests
        (all experiments, so that the model files do not depend on which of them runs)."""
        statuses = [
            status
            for experiment in self.config["experiment_config"].values()
            for status in as_list(experiment.get("status", DEFAULT_STATUS))
        ]
        return saved_epochs(self.config["epochs"], self.config.get("save_every"), statuses)

    def test_files(
        self,
        experiment: str,
        key: ModelKey,
        group: str,
        *,
        variants: list[tuple[str, str]] | None = None,
    ) -> list[str]:
        """Outputs table and responses of every data-argument level of an experiment for one network, for each
        ``(status, switch_off tag)`` of ``variants`` (default: every one of the experiment)."""
        settings = self.experiment(experiment)
        files = []
        for (status, tag), data_args in itertools.product(
            variants or self.variants(experiment), self.data_args(experiment)
        ):
            fields = dict(
                vars(key),
                status=status,
                switch_off=tag,
                data_loader=settings["data_loader"],
                data_args=data_args,
                data_group=group,
            )
            check_name_length(TEST_STEM.format(**fields) + "_test_responses.config.yaml", self.limit)
            files += [self.paths.outputs().format(**fields), self.paths.responses().format(**fields)]
        return files

    def figure_folder(self, experiment: str, key: ModelKey, group: str, status: str, tag: str) -> str:
        fields = dict(vars(key), experiment=experiment, status=status, switch_off=tag, data_group=group)
        check_name_length(self.paths.figure_stem.format(**fields), self.limit)
        return self.paths.figure_folder().format(**fields)

    def figure_folders(self, experiment: str) -> list[str]:
        """The figure folder of every network, group, status and switch-off setting of an experiment's sweep."""
        return [
            self.figure_folder(experiment, key, group, status, tag)
            for key in self.models()
            for group in self.groups()
            for status, tag in self.variants(experiment)
        ]

    def figures(self, experiment: str) -> list[str]:
        """Every figure of an experiment over the sweep (``training`` only in the folders of models that trained)."""
        plots = self.experiment(experiment)["plots"]
        return [
            f"{self.figure_folder(experiment, key, group, status, tag)}/{plot}.png"
            for key in self.models()
            for group in self.groups()
            for status, tag in self.variants(experiment)
            for plot in plots
            if not (plot == "training" and status == "init")
        ]

    def plot_input(self, fields: dict[str, str]) -> str:
        """The file one plot of a figure folder is drawn from: the model's training metrics (``training``), its
        file of the folder's status (``weights``) or that file's sidecar (``unrolling``), else the folder's table."""
        key = ModelKey(fields["model_name"], fields["model_args"], fields["seed"], fields["data_name"])
        if fields["plot"] == "training":
            return self.paths.training_metrics().format(**vars(key))
        if fields["plot"] in ("weights", "unrolling"):
            model = self.model_file(key, fields["status"])
            return model if fields["plot"] == "weights" else str(sidecar(model))
        return self.paths.figure_data().format(**fields)

    def sweep_name(self, experiment: str) -> str | None:
        """The ``{sweep}`` of an experiment's comparison: the swept keys and a hash of its figure folders (None
        when the sweep holds one figure folder, which leaves nothing to compare)."""
        folders = self.figure_folders(experiment)
        if len(folders) < 2:
            return None
        settings = self.experiment(experiment)
        arguments = self.config.get("model_args") or {}
        swept = [
            *(["model"] if len(as_list(self.config["model_name"])) > 1 else []),
            *(key for key, value in arguments.items() if isinstance(value, list) and len(value) > 1),
            *(name for key, name in SWEEP_KEYS.items() if key != "model_name" and len(as_list(self.config[key])) > 1),
            *(name for name in ("status", "switch_off") if len(settings[name]) > 1),
        ]
        digest = hashlib.sha1("\n".join(sorted(folders)).encode()).hexdigest()[:8]
        return "-".join([*(name.replace("_", "") for name in swept), digest])

    def comparison_files(self, experiment: str) -> list[str]:
        """The files of an experiment's comparison (none when its sweep holds one figure folder)."""
        sweep = self.sweep_name(experiment)
        if sweep is None:
            return []
        return [pattern.format(experiment=experiment, sweep=sweep) for pattern in self.paths.comparison_files()]

    def comparison_inputs(self, experiment: str, sweep: str) -> list[str]:
        """The tidy table of every figure folder a comparison overlays."""
        if sweep != self.sweep_name(experiment):
            raise ValueError(
                f"comparison_{sweep} is not the sweep of experiment {experiment} in this configuration "
                f"(that is comparison_{self.sweep_name(experiment)})"
            )
        return [f"{folder}/data.csv" for folder in self.figure_folders(experiment)]

    def experiment_inputs(self, experiment: str) -> list[str]:
        """What ``reports/experiment_{experiment}.done`` stands for: all tests, figures and the comparison."""
        tests = [
            file for key in self.models() for group in self.groups() for file in self.test_files(experiment, key, group)
        ]
        return tests + self.figures(experiment) + self.comparison_files(experiment)

    def done_files(self, experiments: list[str]) -> list[str]:
        return [self.paths.experiment_done().format(experiment=name) for name in experiments]

    def weights_tag(self, model_name: str, data_name: str) -> str | None:
        """The tag of the registered weights of ``model_name`` trained on ``data_name`` (None: there are none)."""
        return dataset_weights(self.config["weights_registry"], model_name, data_name)

    def standard_variants(self, experiment: str, key: ModelKey) -> list[tuple[str, str]]:
        """The experiment's variants of a standard model: ``pretrained`` instead of ``trained`` where the model has
        registered weights for the dataset (they are loaded, not trained again)."""
        variants = self.variants(experiment)
        if self.weights_tag(key.model_name, key.data_name) is None:
            return variants
        trained = self.file_status(DEFAULT_STATUS)
        return list(dict.fromkeys((PRETRAINED_STATUS if s == trained else s, tag) for s, tag in variants))

    def standard_model_tests(self) -> list[str]:
        """Tests of every named model with its own default arguments (or, where it has registered weights for the
        dataset, as those weights), for the configured experiments."""
        return [
            file
            for experiment in self.experiments()
            for key in self.models(model_args=[""])
            for group in self.groups()
            for file in self.test_files(experiment, key, group, variants=self.standard_variants(experiment, key))
        ]

    def figure_inputs(self, experiment: str, fields: dict[str, str]) -> list[str]:
        """The test outputs and responses one figure folder is drawn from (all data-argument levels)."""
        key = ModelKey(fields["model_name"], fields["model_args"], fields["seed"], fields["data_name"])
        variants = [(fields["status"], fields["switch_off"])]
        return self.test_files(experiment, key, fields["data_group"], variants=variants)
