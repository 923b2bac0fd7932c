"""Resumable, verified downloads.

A file is only ever visible under its final name once every byte arrived and the checksum matched: bytes go to
`<name>.part`, which a later run resumes with an HTTP Range request, and the rename happens after verification.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

CHUNK_SIZE = 1 << 16


class DownloadError(RuntimeError):
    """A download could not be completed (network failure after all retries)."""


class ChecksumError(DownloadError):
    """Downloaded bytes do not match the published checksum."""


def file_checksum(path: Path, algorithm: str) -> str:
    """Hex digest of a file."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_checksum(path: Path, md5: str | None = None, sha256: str | None = None, label: str | None = None) -> None:
    """Raise ChecksumError unless the file matches every checksum given (`label` names it in the error)."""
    for algorithm, expected in (("sha256", sha256), ("md5", md5)):
        if expected is None:
            continue
        actual = file_checksum(path, algorithm)
        if actual != expected.lower():
            raise ChecksumError(f"{label or path.name}: {algorithm} is {actual}, expected {expected}")


def download_file(
    url: str,
    dest: str | os.PathLike,
    *,
    md5: str | None = None,
    sha256: str | None = None,
    retries: int = 3,
    backoff: float = 2.0,
    timeout: float = 60.0,
    progress: bool = True,
) -> Path:
    """Download `url` to `dest`, resuming a previous `.part` file and verifying the checksum.

    Args:
        url: Source URL (http, https or file).
        dest: Final file name; it appears only when the download is complete and verified.
        md5: Expected MD5 hex digest.
        sha256: Expected SHA-256 hex digest.
        retries: Attempts after the first one when the transfer breaks off.
        backoff: Seconds to wait before the first retry (doubles each time).
        timeout: Socket timeout in seconds.
        progress: Show a tqdm progress bar.

    Returns:
        The destination path.

    Raises:
        ChecksumError: The complete file does not match; the partial file is removed so the next run starts over.
        DownloadError: The transfer failed on every attempt; the `.part` file is kept for resuming.
    """
    dest = Path(dest)
    if dest.is_file():
        try:
            verify_checksum(dest, md5, sha256)
            return dest
        except ChecksumError:
            dest.unlink()  # damaged since it was verified (or the recipe changed): fetch it again
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    failure = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            complete = _transfer(url, part, timeout=timeout, progress=progress)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            if isinstance(error, urllib.error.HTTPError) and error.code in (403, 404, 410):
                raise DownloadError(f"{url}: HTTP {error.code} {error.reason}") from None
            failure = f"{type(error).__name__}: {error}"
            continue
        if complete:
            try:
                verify_checksum(part, md5, sha256, label=dest.name)
            except ChecksumError as error:
                part.unlink(missing_ok=True)
                raise ChecksumError(f"{error} (downloaded from {url}; the bytes were discarded)") from None
            os.replace(part, dest)
            return dest
        size = part.stat().st_size if part.exists() else 0
        failure = f"transfer broke off after {size} bytes"
    raise DownloadError(
        f"download of {url} failed after {retries + 1} attempts ({failure}); "
        f"partial data kept in {part.name}, run again to resume"
    )


def _transfer(url: str, part: Path, *, timeout: float, progress: bool) -> bool:
    """Append the missing bytes of `url` to `part`; return True when the server's full length arrived."""
    from tqdm.auto import tqdm

    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "dynvision-data"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:
            # Range not satisfiable: we already hold every byte; the checksum decides.
            return True
        raise
    with response:
        status = getattr(response, "status", 200)
        if have and status != 206:
            have = 0  # the server ignored the Range header: start over
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        mode = "ab" if have else "wb"
        with (
            open(part, mode) as handle,
            tqdm(
                total=total, initial=have, unit="B", unit_scale=True, desc=part.name[:-5], disable=not progress
            ) as bar,
        ):
            while True:
                chunk = response.read(CHUNK_SIZE)
                if not chunk:
                    break
                handle.write(chunk)
                bar.update(len(chunk))
    size = part.stat().st_size
    return total is None or size >= total
