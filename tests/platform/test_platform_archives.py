"""Malicious deployment archives: nothing they hold can write outside the deployment's folder,
whatever the Python version (``tarfile``'s own filters do not hold on 3.11.7: CVE-2025-4517)."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest
from appwrite.enums.runtime import Runtime
from appwrite.input_file import InputFile
from appwrite.services.functions import Functions

from tests.platform._support import PlatformProcess, unique_id, wait_for_build
from wixhttp.platform.archive import ArchiveError, extract_archive

#: (name, tarfile type, link target, data) of one archive entry.
Entry = tuple[str, bytes, str, bytes | None]

_SITE: Entry = ("http_functions.py", tarfile.REGTYPE, "", b"def get_hello(request):\n    pass\n")


def _file(name: str, data: bytes = b"x = 1\n") -> Entry:
    return name, tarfile.REGTYPE, "", data


def _dir(name: str) -> Entry:
    return name, tarfile.DIRTYPE, "", None


def _symlink(name: str, target: str) -> Entry:
    return name, tarfile.SYMTYPE, target, None


def _hardlink(name: str, target: str) -> Entry:
    return name, tarfile.LNKTYPE, target, None


def _tar(entries: list[Entry]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, kind, target, data in entries:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = target
            info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
            info.size = len(data) if data is not None else 0
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def path_max_chain(destination: Path) -> list[Entry]:
    """CVE-2025-4517's archive for ``destination``: 16 directories with names long enough that
    the chain of links ``a/b/.../p`` to them overflows PATH_MAX once expanded, so
    ``os.path.realpath`` (what the ``data`` filter checks with) stops expanding; a link at the
    end back to the top, then ``escape`` -> ``<that link>/..``, one level above the destination.
    Through it: a hard link to a file outside, overwritten, and a new file outside."""
    steps = "abcdefghijklmnop"
    path_max = os.pathconf("/", "PC_PATH_MAX")
    component = "d" * ((path_max - len(str(destination)) - 1) // (len(steps) + 1))
    entries: list[Entry] = [_SITE]
    path = ""
    for step in steps:
        entries.append(_dir(os.path.join(path, component)))
        entries.append(_symlink(os.path.join(path, step), component))
        path = os.path.join(path, component)
    link = os.path.join(*steps, "l" * 254)
    entries.append(_symlink(link, os.path.join(*[".."] * len(steps))))
    entries.append(_symlink("escape", os.path.join(link, "..")))
    entries.append(_hardlink("flaglink", "escape/flag"))
    entries.append(_file("flaglink", b"overwritten\n"))
    entries.append(_file("escape/newfile", b"written outside\n"))
    return entries


def _extract(tmp_path: Path, entries: list[Entry]) -> Path:
    """Extract ``entries`` into ``tmp_path/deployment/code``, beside a ``flag`` file."""
    (tmp_path / "deployment").mkdir()
    (tmp_path / "deployment" / "flag").write_text("original\n")
    source = tmp_path / "source.tar.gz"
    source.write_bytes(_tar(entries))
    target = tmp_path / "deployment" / "code"
    extract_archive(source, target, max_size=10 * 1024 * 1024, max_files=1000)
    return target


def _outside(tmp_path: Path) -> set[str]:
    """What is in ``tmp_path`` outside the code folder (the archive and ``flag`` if unharmed)."""
    found = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")}
    return {p for p in found if not p.startswith("deployment/code")}


UNTOUCHED = {"source.tar.gz", "deployment", "deployment/flag"}


def test_the_path_max_symlink_chain_of_cve_2025_4517_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="goes through 'a', a link or a file"):
        _extract(tmp_path, path_max_chain(tmp_path / "deployment" / "code"))
    assert _outside(tmp_path) == UNTOUCHED
    assert (tmp_path / "deployment" / "flag").read_text() == "original\n"


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([_file("../flag")], "'..' path components are not allowed"),
        ([_file("a/../../evil.py")], "'..' path components are not allowed"),
        ([_file("/tmp/evil.py")], "absolute paths are not allowed"),
        ([_symlink("etc", "/etc"), _file("etc/evil")], "links to absolute paths"),
        ([_symlink("up", ".."), _file("up/evil")], "link points outside"),
        ([_symlink("pkg/up", "../.."), _file("pkg/up/evil")], "link points outside"),
        # A link inside, then an entry through it: the data filter's classic two-step.
        ([_symlink("here", "."), _file("here/evil")], "goes through 'here', a link"),
        ([_dir("d"), _symlink("l", "d"), _dir("l/sub")], "goes through 'l', a link"),
        ([_file("f"), _file("f/evil")], "goes through 'f', a link or a file"),
        # A link to a link leading outside: the second one is refused on its own.
        ([_symlink("a", "b"), _symlink("b", "../flag")], "'b': link points outside"),
        ([_symlink("b", "../flag"), _symlink("a", "b")], "'b': link points outside"),
        # '..' after a name: lexically inside, but a link on the way turns it into a climb.
        ([_symlink("a/l", ".."), _symlink("esc", "a/l/..")], "has '..' after a name"),
        ([_symlink("x", "pkg/../http_functions.py")], "has '..' after a name"),
        ([_symlink("empty", "")], "a link with an empty target"),
        ([_hardlink("hard", "../flag")], "link points outside"),
        ([_hardlink("hard", "/etc/passwd")], "link points outside"),
        ([_symlink("l", "http_functions.py"), _hardlink("h", "l")], "only links to a regular"),
        ([_hardlink("h", "later.py"), _file("later.py")], "only links to a regular"),
        ([_file("twice.py"), _file("twice.py", b"again")], "appears twice"),
        ([_symlink("twice", "http_functions.py"), _file("twice")], "appears twice"),
        ([_symlink("d", "."), _dir("d")], "a link or file of that name came earlier"),
        ([("dev", tarfile.CHRTYPE, "", None)], "device, FIFO"),
        ([("blk", tarfile.BLKTYPE, "", None)], "device, FIFO"),
        ([("fifo", tarfile.FIFOTYPE, "", None)], "device, FIFO"),
        ([_file("n" * 300)], "cannot be written"),
    ],
)
def test_an_entry_that_could_leave_the_deployment_is_refused(
    tmp_path: Path, entries: list[Entry], message: str
) -> None:
    with pytest.raises(ArchiveError, match=message):
        _extract(tmp_path, [_SITE, *entries])
    assert _outside(tmp_path) == UNTOUCHED
    assert (tmp_path / "deployment" / "flag").read_text() == "original\n"


def test_links_that_stay_inside_are_extracted_as_links(tmp_path: Path) -> None:
    code = _extract(
        tmp_path,
        [
            _SITE,
            _file("lib/tool/cli.py", b"print('cli')\n"),
            _symlink("bin/cli", "../lib/tool/cli.py"),  # like node_modules/.bin
            _symlink("lib/current", "tool"),
            _symlink("site.py", "./http_functions.py"),
            _hardlink("copy.py", "http_functions.py"),
            _dir("lib"),  # a directory entry after its content, as some tools write it
        ],
    )
    assert (code / "bin" / "cli").read_text() == "print('cli')\n"
    assert os.readlink(code / "bin" / "cli") == "../lib/tool/cli.py"
    assert (code / "lib" / "current" / "cli.py").is_file()
    assert (code / "site.py").read_bytes() == _SITE[3]
    assert (code / "copy.py").stat().st_ino == (code / "http_functions.py").stat().st_ino


def test_files_keep_only_the_owners_execute_bit(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, mode in (("run.sh", 0o4777), ("data.txt", 0o666)):
            info = tarfile.TarInfo(name)
            info.mode, info.size = mode, 1
            archive.addfile(info, io.BytesIO(b"x"))
    (tmp_path / "source.tar.gz").write_bytes(buffer.getvalue())
    extract_archive(tmp_path / "source.tar.gz", tmp_path / "code", max_size=100, max_files=10)
    assert (tmp_path / "code" / "run.sh").stat().st_mode & 0o7777 == 0o755
    assert (tmp_path / "code" / "data.txt").stat().st_mode & 0o7777 == 0o644


def test_the_path_max_chain_uploaded_through_the_sdk_fails_its_build_and_writes_nothing(
    functions: Functions, platform: PlatformProcess
) -> None:
    function_id = unique_id()
    functions.create(function_id, "evil", Runtime.PYTHON_3_11)
    # The deployment's id is not known before the upload; ids are 20 characters.
    code = platform.data_dir / "functions" / function_id / ("x" * 20) / "code"
    created = functions.create_deployment(
        function_id, InputFile.from_bytes(_tar(path_max_chain(code)), "code.tar.gz"), True
    )
    failed = wait_for_build(functions, function_id, created.id)
    assert failed.status.value == "failed"
    assert "unsafe or invalid archive: 'a/b/c" in failed.buildlogs
    assert "goes through 'a', a link or a file" in failed.buildlogs
    assert not list(platform.data_dir.rglob("newfile"))
    assert not list(platform.data_dir.rglob("flaglink"))
    assert functions.get(function_id).deploymentid == ""
