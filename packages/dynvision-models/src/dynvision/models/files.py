"""Write files so that a reader never sees half of one, with the permissions the user's umask gives.

A file is written under a hidden temporary name beside its target and renamed onto it only when it is
complete; a failure leaves neither the target nor the temporary file. ``tempfile.mkstemp`` creates files
of mode 0600, which collaborators on a shared cluster file system could not read: the finished file gets
``0o666 & ~umask``, as a plain ``open()`` would give it.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@functools.cache
def umask() -> int:
    """The process's umask (read once: setting and restoring it is the only way to learn it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``target`` (same suffix, for writers that go by it), renamed onto ``target``
    when the block ends without an error and removed when it fails."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.tmp-", suffix=target.suffix)
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, 0o666 & ~umask())
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)
