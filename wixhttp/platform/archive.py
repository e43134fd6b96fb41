"""Deployment archives: safe extraction of an uploaded ``.tar.gz`` and packing a directory into one.

:func:`extract_archive` never lets :mod:`tarfile` touch the disk: it checks every entry itself
and writes files, directories and links relative to directory descriptors, refusing to follow
any link already on disk (``O_NOFOLLOW``, ``O_EXCL``). So no entry can leave the target whatever
the Python version (the ``tarfile`` filters of 3.12-3.13 and their backports could be bypassed,
CVE-2025-4517). The rules:

- names are relative, without ``..``, and never go through a link or a file the archive made;
- a symbolic link's target is relative and made of leading ``..`` then names only (``../lib/x``,
  not ``a/../../x``), and never climbs above the deployment: as no link can be followed upwards
  by a name, every link then resolves inside the deployment;
- a hard link names a regular file that came earlier in the archive;
- no devices, FIFOs or other special files; no entry twice;
- at most ``max_files`` entries; the unpacked size is capped both by the sizes the headers
  declare and by the bytes actually decompressed, so a gzip bomb fails fast.

:func:`pack` makes the archives ``wixhttp deploy`` uploads and the API's build-output download
serves.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import io
import os
import shutil
import stat
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

__all__ = ["ArchiveError", "directory_size", "extract_archive", "pack"]

#: What ``pack(..., source_only=True)`` leaves out: caches, VCS data, virtualenvs, installed deps.
NOT_SOURCE = frozenset(
    {"__pycache__", ".git", ".venv", "venv", ".mypy_cache", ".pytest_cache", ".deps"}
)

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


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
            raise _too_big(self._limit)
        return data


def _too_big(limit: int) -> ArchiveError:
    return ArchiveError(
        f"the archive unpacks to more than {limit} bytes (the limit); "
        "remove large files or raise --max-unpacked-size"
    )


def _parts(name: str, what: str = "") -> tuple[str, ...]:
    """``name`` split into its components, or :class:`ArchiveError` if absolute or with ``..``."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise ArchiveError(f"{what}absolute paths are not allowed in the archive")
    parts = tuple(p for p in name.replace("\\", "/").split("/") if p not in ("", "."))
    if ".." in parts:
        raise ArchiveError(f"{what}'..' path components are not allowed in the archive")
    return parts


def _check_symlink(parts: tuple[str, ...], target: str) -> None:
    """Refuse a link target that is absolute, climbs above the deployment, or has a ``..``
    after a name (which a link on the way could turn into a climb: CVE-2025-4517's chain)."""
    if not target:
        raise ArchiveError("a link with an empty target")
    if target.startswith("/"):
        raise ArchiveError(f"links to absolute paths are not allowed ({target!r})")
    steps = [p for p in target.split("/") if p not in ("", ".")]
    ups = 0
    while ups < len(steps) and steps[ups] == "..":
        ups += 1
    if ups > len(parts) - 1:
        raise ArchiveError(f"link points outside the deployment ({target!r})")
    if ".." in steps[ups:]:
        raise ArchiveError(
            f"link target {target!r} has '..' after a name; only leading '..' are allowed"
        )


class _Writer:
    """Writes entries under one root directory, never following a link already on disk."""

    def __init__(self, root: Path) -> None:
        self.root = os.open(root, _DIR_FLAGS)
        self.files: set[tuple[str, ...]] = set()

    def close(self) -> None:
        os.close(self.root)

    @contextlib.contextmanager
    def parent(self, parts: tuple[str, ...]) -> Iterator[int]:
        """A descriptor of the directory holding ``parts``, made as needed."""
        fd = os.dup(self.root)
        try:
            for index, part in enumerate(parts[:-1]):
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o755, dir_fd=fd)
                try:
                    child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                        raise
                    on_way = "/".join(parts[: index + 1])
                    raise ArchiveError(f"goes through {on_way!r}, a link or a file") from None
                os.close(fd)
                fd = child
            yield fd
        finally:
            os.close(fd)

    def directory(self, parts: tuple[str, ...]) -> None:
        with self.parent(parts) as fd:
            try:
                os.mkdir(parts[-1], 0o755, dir_fd=fd)
            except FileExistsError:
                if not stat.S_ISDIR(os.stat(parts[-1], dir_fd=fd, follow_symlinks=False).st_mode):
                    raise ArchiveError("a link or file of that name came earlier") from None

    def file(self, parts: tuple[str, ...], data: _Readable, executable: bool) -> None:
        with self.parent(parts) as fd:
            mode = 0o755 if executable else 0o644
            out = os.open(parts[-1], _FILE_FLAGS, mode, dir_fd=fd)
            with os.fdopen(out, "wb") as stream:
                shutil.copyfileobj(data, stream)
        self.files.add(parts)

    def symlink(self, parts: tuple[str, ...], target: str) -> None:
        _check_symlink(parts, target)
        with self.parent(parts) as fd:
            os.symlink(target, parts[-1], dir_fd=fd)

    def hardlink(self, parts: tuple[str, ...], target: str) -> None:
        try:
            source = _parts(target)
        except ArchiveError:
            raise ArchiveError(f"link points outside the deployment ({target!r})") from None
        if source not in self.files:
            raise ArchiveError(
                f"hard link to {target!r}: only links to a regular file earlier in the "
                "archive are allowed"
            )
        with self.parent(source) as src_fd, self.parent(parts) as dst_fd:
            os.link(
                source[-1], parts[-1], src_dir_fd=src_fd, dst_dir_fd=dst_fd, follow_symlinks=False
            )


def _write(writer: _Writer, archive: tarfile.TarFile, member: tarfile.TarInfo) -> None:
    """One entry, checked and written; :class:`ArchiveError` naming it if it is refused."""
    name = member.name
    try:
        parts = _parts(name)
        if not parts:
            return
        if member.isdir():
            writer.directory(parts)
        elif member.isfile():
            data = archive.extractfile(member)
            assert data is not None  # a regular member always has a stream
            writer.file(parts, data, bool(member.mode & 0o100))
        elif member.issym():
            writer.symlink(parts, member.linkname)
        elif member.islnk():
            writer.hardlink(parts, member.linkname)
        else:
            raise ArchiveError(
                "only files, directories and links are allowed (found a device, FIFO "
                "or other special file)"
            )
    except ArchiveError as exc:
        raise ArchiveError(f"{name!r}: {exc}") from None
    except FileExistsError:
        raise ArchiveError(f"{name!r}: appears twice in the archive") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in a name
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ArchiveError(f"{name!r}: cannot be written ({reason})") from None


def extract_archive(source: Path, target: Path, *, max_size: int, max_files: int) -> int:
    """Extract ``source`` (a ``.tar.gz``) into the empty directory ``target``; returns the
    number of bytes written. Raises :class:`ArchiveError` for anything unsafe or corrupt."""
    target.mkdir(parents=True, exist_ok=True)
    writer = _Writer(target)
    total = 0
    count = 0
    try:
        with gzip.open(source, "rb") as raw:
            # Header blocks and padding add a little to what the tar stream holds beyond data.
            capped = _CappedReader(raw, max_size + max_files * 1024 + 1024 * 1024)
            with tarfile.open(fileobj=capped, mode="r|") as archive:  # type: ignore[call-overload]
                for member in archive:
                    count += 1
                    if count > max_files:
                        raise ArchiveError(f"the archive holds more than {max_files} entries")
                    total += max(member.size, 0) if member.isfile() else 0
                    if total > max_size:
                        raise _too_big(max_size)
                    _write(writer, archive, member)
    except ArchiveError:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise ArchiveError(f"not a valid .tar.gz archive: {exc}") from None
    finally:
        writer.close()
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
