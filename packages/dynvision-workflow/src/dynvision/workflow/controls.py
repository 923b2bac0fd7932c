"""What an experiment tests of each network: its status (``init``, ``pretrained``, ``trained``, ``epoch=N``) and
the connections switched off, as the config writes them; their file-name forms are in :mod:`dynvision.workflow.paths`.

Torch-free, so that the configuration is checked before any job: an ``epoch=N`` beyond the training's epochs and
an unknown part are refused with one line saying why. Training keeps the model of every epoch an experiment
tests, and every ``save_every``-th one besides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dynvision.models.ablation import PARTS
from dynvision.models.grammar import closest
from dynvision.workflow.paths import CONFIG_STATUS_PATTERN

DEFAULT_STATUS = "trained"
NO_SWITCH_OFF = "none"
"""The switch_off setting of a test of the whole network."""


def epoch_status(epoch: int) -> str:
    """The status of a network saved after ``epoch`` epochs of training."""
    return f"epoch={epoch}"


def status_epoch(status: str) -> int | None:
    """N of a status ``epoch=N`` (None for ``init`` and ``trained``)."""
    return int(status.removeprefix("epoch=")) if status.startswith("epoch=") else None


def saved_epochs(epochs: int, save_every: int | None, statuses: Iterable[str] = ()) -> list[int]:
    """The epochs after which training saves the network: the multiples of ``save_every`` (0 or None: none) and
    every epoch a status of ``statuses`` tests (``epoch=N``), up to ``epochs``."""
    every = set(range(save_every, epochs + 1, save_every)) if save_every else set()
    tested = {status_epoch(str(status)) for status in statuses} - {None}
    return sorted(every | {epoch for epoch in tested if epoch <= epochs})


def status_refusal(status: str, epochs: int) -> str | None:
    """Why no model file of ``status`` will exist (None: it will)."""
    if not re.fullmatch(CONFIG_STATUS_PATTERN, status):
        known = ["init", "pretrained", "trained"]
        return f"{status!r} is unknown{closest(status, known)}; valid: init, pretrained, trained, epoch=N (N >= 1)"
    epoch = status_epoch(status)
    if epoch is not None and epoch > epochs:
        return f"{status} is never saved: training runs epochs={epochs}"
    return None


def switch_off_parts(setting: str) -> tuple[str, ...]:
    """The parts of a switch_off setting (``none``, ``recurrence``, ``recurrence+skip``), in the order of PARTS."""
    names = [] if setting == NO_SWITCH_OFF else str(setting).split("+")
    for name in names:
        if name not in PARTS:
            raise ValueError(
                f"{setting!r} is unknown{closest(name, [NO_SWITCH_OFF, *PARTS])}; valid: {NO_SWITCH_OFF}, "
                f"{', '.join(PARTS)} or parts joined by + (recurrence+skip)"
            )
    return tuple(part for part in PARTS if part in names)


def switch_off_setting(parts: Iterable[str]) -> str:
    """The canonical setting of ``parts``: ``none`` or the parts joined by ``+`` in the order of PARTS."""
    parts = set(parts)
    return "+".join(part for part in PARTS if part in parts) or NO_SWITCH_OFF
