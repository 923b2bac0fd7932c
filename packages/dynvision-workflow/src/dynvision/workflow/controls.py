"""What an experiment tests of each network: its status (``init``, ``trained``, ``epoch=N``) and the connections
switched off, as the config writes them; their file-name forms are in :mod:`dynvision.workflow.paths`.

Torch-free, so that the configuration is checked before any job: an ``epoch=N`` that training will not save and
an unknown part are refused with one line saying why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dynvision.models.ablation import PARTS
from dynvision.models.grammar import closest
from dynvision.workflow.paths import STATUS_PATTERN

DEFAULT_STATUS = "trained"
NO_SWITCH_OFF = "none"
"""The switch_off setting of a test of the whole network."""


def epoch_status(epoch: int) -> str:
    """The status of a network saved after ``epoch`` epochs of training."""
    return f"epoch={epoch}"


def saved_epochs(epochs: int, save_every: int | None) -> list[int]:
    """The epochs after which training saves the network: the multiples of ``save_every`` (0 or None: none)."""
    return list(range(save_every, epochs + 1, save_every)) if save_every else []


def status_refusal(status: str, epochs: int, save_every: int | None) -> str | None:
    """Why no model file of ``status`` will exist (None: it will)."""
    if not re.fullmatch(STATUS_PATTERN, status):
        return f"{status!r} is unknown{closest(status, ['init', 'trained'])}; valid: init, trained, epoch=N (N >= 1)"
    if not status.startswith("epoch="):
        return None
    epoch = int(status.removeprefix("epoch="))
    if not save_every:
        return f"{status} is never saved: save_every is off (set save_every: N to keep every N-th epoch)"
    if epoch > epochs:
        return f"{status} is never saved: training runs epochs={epochs}"
    if epoch % save_every:
        return f"{status} is never saved: save_every={save_every} keeps the multiples of {save_every} up to {epochs}"
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
