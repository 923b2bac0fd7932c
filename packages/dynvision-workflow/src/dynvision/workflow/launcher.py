"""The launcher a training job starts under (the cluster profile's resource ``mpi``), as a safe shell prefix.

The resource reaches the shell of ``train_model``, so it is parsed into words and rebuilt: the first word must
be a known launcher and every word is quoted, so a resource can start one of them and nothing else.
"""

from __future__ import annotations

import re
import shlex

LAUNCHERS = ("srun", "mpirun", "mpiexec", "torchrun")
WORD_PATTERN = r"[A-Za-z0-9_.,:=/+-]+"


def launcher_prefix(resource: object) -> str:
    """The quoted command words the resource ``mpi`` asks for (``srun --ntasks-per-node=2``); empty for none."""
    text = "" if resource is None else str(resource)
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise ValueError(f"resource mpi={text!r} is not a command line ({error})") from None
    if not words:
        return ""
    if words[0] not in LAUNCHERS:
        raise ValueError(f"resource mpi={text!r} must start with a launcher; valid choices: {', '.join(LAUNCHERS)}")
    bad = [word for word in words if not re.fullmatch(WORD_PATTERN, word)]
    if bad:
        raise ValueError(f"resource mpi={text!r}: {bad[0]!r} is not a launcher option (letters, digits, _.,:=/+-)")
    return shlex.join(words)
