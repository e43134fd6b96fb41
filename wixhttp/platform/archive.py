"""Deployment archives: safe extraction of an uploaded ``.tar.gz`` and packing a directory into one.

:func:`extract_archive` accepts only regular files, directories and links that stay inside the
target; no absolute paths, no ``..``, no devices or FIFOs; at most ``max_files`` entries; the
unpacked size is capped both by the sizes the headers declare and by the bytes actually
decompressed, so a gzip bomb fails fast instead of filling the disk. :func:`pack` makes the
archives ``wixhttp deploy`` uploads and the API's build-output download serves.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import posixpath
import tarfile
import zlib
from pathlib import Path
from typing import Protocol

__all__ = ["ArchiveError", "directory_size", "extract_archive", "pack"]

#: What ``pack(..., source_only=True)`` leaves out: caches, VCS data, virtualenvs, installed deps.
NOT_SOURCE = frozenset(
    {"__pycache__", ".git", ".venv", "venv", ".mypy_cache", ".pytest_cache", ".deps"}
)


class ArchiveError(Exception):
    """The archive is unsafe or unreadable; the message says which entry and why."""


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _CappedReader:
    """A read-only stream that raises :class:`ArchiveError` past ``limit`` bytes."""

    def __init__(self, raw: _Readable, limit: int) -> None:
        self._raw = raw
        self._limit = limit
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.count += len(data)
        if self.count > self._limit:
            raise ArchiveError(
                f"the archive unpacks to more than {self._limit} bytes (the limit); "
                "remove large files or raise --max-unpacked-size"
            )
        return data


def _check_member(member: tarfile.TarInfo) -> str:
    """The member's normalised relative path, or :class:`ArchiveError`."""
    name = member.name
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or name.startswith("\\"):
        raise ArchiveError(f"{name!r}: absolute paths are not allowed in the archive")
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveError(f"{name!r}: '..' path components are not allowed in the archive")
    relative = "/".join(parts)
    if member.issym() or member.islnk():
        target = member.linkname
        if target.startswith("/"):
            raise ArchiveError(f"{name!r}: links to absolute paths are not allowed ({target!r})")
        base = posixpath.dirname(relative) if member.issym() else ""
        resolved = posixpath.normpath(posixpath.join(base, target))
        if resolved == ".." or resolved.startswith("../"):
            raise ArchiveError(f"{name!r}: link points outside the deployment ({target!r})")
    elif not (member.isfile() or member.isdir()):
        raise ArchiveError(
            f"{name!r}: only files, directories and links are allowed (found a device, FIFO "
            "or other special file)"
        )
    return relative


def extract_archive(source: Path, target: Path, *, max_size: int, max_files: int) -> int:
    """Extract ``source`` (a ``.tar.gz``) into the empty directory ``target``; returns the
    number of bytes written. Raises :class:`ArchiveError` for anything unsafe or corrupt."""
    target.mkdir(parents=True, exist_ok=True)
    total = 0
    count = 0
    # Header blocks and padding add a little to what the tar stream holds beyond file data.
    try:
        with gzip.open(source, "rb") as raw:
            capped = _CappedReader(raw, max_size + max_files * 1024 + 1024 * 1024)
            with tarfile.open(fileobj=capped, mode="r|") as archive:  # type: ignore[call-overload]
                for member in archive:
                    count += 1
                    if count > max_files:
                        raise ArchiveError(f"the archive holds more than {max_files} entries")
                    relative = _check_member(member)
                    if not relative:
                        continue
                    total += max(member.size, 0)
                    if total > max_size:
                        raise ArchiveError(
                            f"the archive unpacks to more than {max_size} bytes (the limit); "
                            "remove large files or raise --max-unpacked-size"
                        )
                    member.name = relative
                    if member.islnk():
                        member.linkname = posixpath.normpath(member.linkname)
                    archive.extract(member, target, filter="data")
    except ArchiveError:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise ArchiveError(f"not a valid .tar.gz archive: {exc}") from None
    if count == 0:
        raise ArchiveError("the archive is empty")
    return total


def directory_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def pack(directory: str | os.PathLike[str], *, source_only: bool = False) -> bytes:
    """A ``.tar.gz`` of what is in ``directory``, paths relative to it, in sorted order.

    By default everything, directories and links included (a deployment's build output).
    ``source_only`` keeps only files (and links to files) outside :data:`NOT_SOURCE`
    directories, without ``.pyc``/``.pyo`` files: a site as ``wixhttp deploy`` uploads it.
    """
    base = Path(directory)
    if not base.is_dir():  # os.walk would pack an empty archive
        raise FileNotFoundError(f"not a directory: {base}")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for root, dirs, files in os.walk(base):
            if source_only:
                dirs[:] = [d for d in dirs if d not in NOT_SOURCE]
                files = [f for f in files if not f.endswith((".pyc", ".pyo"))]
            dirs.sort()
            # os.walk lists a link to a directory among dirs and does not descend into it.
            for name in sorted(files if source_only else [*dirs, *files]):
                path = Path(root) / name
                archive.add(path, arcname=str(path.relative_to(base)), recursive=False)
    return buffer.getvalue()
