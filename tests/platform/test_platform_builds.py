"""Safe extraction of deployment archives (unit tests), one malicious upload end to end, and what
a build's logs say: the style it found, no server paths, no asyncio noise when canceled."""

from __future__ import annotations

import gzip
import io
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from appwrite.enums.runtime import Runtime
from appwrite.input_file import InputFile
from appwrite.services.functions import Functions

from tests.platform._support import PlatformProcess, unique_id, wait_for_build
from wixhttp.platform.archive import ArchiveError, extract_archive


def _archive(path: Path, *members: tuple[tarfile.TarInfo, bytes | None]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str, data: bytes = b"x = 1\n") -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def _special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None


def _extract(tmp_path: Path, source: Path, max_size: int = 1024 * 1024) -> Path:
    target = tmp_path / "out"
    extract_archive(source, target, max_size=max_size, max_files=100)
    return target


def test_a_normal_archive_is_extracted(tmp_path: Path) -> None:
    source = _archive(
        tmp_path / "a.tar.gz",
        _file("./http_functions.py"),
        _file("pkg/mod.py", b"y = 2\n"),
        _special("pkg/link.py", tarfile.SYMTYPE, "mod.py"),
    )
    target = _extract(tmp_path, source)
    assert (target / "http_functions.py").read_bytes() == b"x = 1\n"
    assert (target / "pkg" / "link.py").read_bytes() == b"y = 2\n"


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (_file("../evil.py"), "'..' path components are not allowed"),
        (_file("pkg/../../evil.py"), "'..' path components are not allowed"),
        (_file("/etc/evil.py"), "absolute paths are not allowed"),
        (_special("link", tarfile.SYMTYPE, "/etc/passwd"), "links to absolute paths"),
        (_special("link", tarfile.SYMTYPE, "../../etc/passwd"), "link points outside"),
        (_special("pkg/link", tarfile.SYMTYPE, "../../x"), "link points outside"),
        (_special("hard", tarfile.LNKTYPE, "../outside"), "link points outside"),
        (_special("dev", tarfile.CHRTYPE), "device, FIFO"),
        (_special("blk", tarfile.BLKTYPE), "device, FIFO"),
        (_special("fifo", tarfile.FIFOTYPE), "device, FIFO"),
    ],
)
def test_unsafe_members_are_rejected_with_a_reason(
    tmp_path: Path, member: tuple[tarfile.TarInfo, bytes | None], message: str
) -> None:
    source = _archive(tmp_path / "a.tar.gz", _file("http_functions.py"), member)
    with pytest.raises(ArchiveError, match=message):
        _extract(tmp_path, source)
    assert not (tmp_path / "evil.py").exists()


def test_a_gzip_bomb_fails_fast_without_filling_the_disk(tmp_path: Path) -> None:
    source = tmp_path / "bomb.tar.gz"
    with (
        gzip.open(source, "wb", compresslevel=9) as raw,
        tarfile.open(fileobj=raw, mode="w|") as archive,
    ):
        info = tarfile.TarInfo("zeros.bin")
        info.size = 1024 * 1024 * 1024  # 1 GiB of zeros: about 1 MB compressed
        archive.addfile(info, _Zeros(info.size))
    assert source.stat().st_size < 2 * 1024 * 1024
    started = time.monotonic()
    with pytest.raises(ArchiveError, match="unpacks to more than"):
        _extract(tmp_path, source, max_size=10 * 1024 * 1024)
    assert time.monotonic() - started < 5
    written = sum(p.stat().st_size for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert written <= 10 * 1024 * 1024


def test_too_many_entries_are_rejected(tmp_path: Path) -> None:
    source = _archive(tmp_path / "a.tar.gz", *(_file(f"f{i}.py") for i in range(101)))
    with pytest.raises(ArchiveError, match="more than 100 entries"):
        _extract(tmp_path, source)


@pytest.mark.parametrize("data", [b"not gzip at all", gzip.compress(b"gzip but not tar" * 100)])
def test_corrupt_archives_are_rejected(tmp_path: Path, data: bytes) -> None:
    source = tmp_path / "bad.tar.gz"
    source.write_bytes(data)
    with pytest.raises(ArchiveError, match="not a valid .tar.gz archive|the archive is empty"):
        _extract(tmp_path, source)


class _Zeros(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = min(len(buffer), self.left)
        buffer[:count] = b"\0" * count
        self.left -= count
        return count


def test_a_traversal_archive_uploaded_through_the_sdk_fails_its_build(
    functions: Functions, tmp_path: Path, bundle: Callable[..., bytes]
) -> None:
    function_id = unique_id()
    functions.create(function_id, "evil", Runtime.PYTHON_3_11)
    source = _archive(tmp_path / "evil.tar.gz", _file("http_functions.py"), _file("../../x.py"))
    created = functions.create_deployment(
        function_id, InputFile.from_bytes(source.read_bytes(), "code.tar.gz"), True
    )
    failed = wait_for_build(functions, function_id, created.id)
    assert failed.status.value == "failed"
    assert "'..' path components are not allowed" in failed.buildlogs
    assert functions.get(function_id).deploymentid == ""


def _build(functions: Functions, code: bytes, **options: str) -> tuple[str, str]:
    """Upload ``code`` to a new function; its (function id, deployment id)."""
    function_id = unique_id()
    functions.create(function_id, "builds", Runtime.PYTHON_3_11)
    created = functions.create_deployment(
        function_id, InputFile.from_bytes(code, "code.tar.gz"), True, **options
    )
    return function_id, created.id


def test_a_wix_build_log_names_the_style_and_its_handlers(
    functions: Functions, bundle: Callable[..., bytes]
) -> None:
    function_id, deployment_id = _build(functions, bundle("hello"))
    built = wait_for_build(functions, function_id, deployment_id)
    assert built.status.value == "ready"
    assert "Wix HTTP functions: 5 handlers" in built.buildlogs
    assert "/_functions/hello  GET" in built.buildlogs
    assert "Appwrite runtime" not in built.buildlogs


def test_a_failed_builds_logs_name_the_users_files_not_the_servers_paths(
    functions: Functions, platform: PlatformProcess, bundle: Callable[..., bytes]
) -> None:
    function_id, deployment_id = _build(functions, bundle("import_error"))
    failed = wait_for_build(functions, function_id, deployment_id)
    assert failed.status.value == "failed"
    logs = failed.buildlogs
    assert "http_functions.py" in logs and "wixhttp_no_such_module" in logs
    for server_path in {str(platform.data_dir), str(platform.data_dir.resolve())}:
        assert server_path not in logs
    assert str(Path(__file__).resolve().parents[2]) not in logs  # the server's own checkout


def test_an_appwrite_entrypoint_without_main_reachable_fails_with_the_import_error(
    functions: Functions, tmp_path: Path
) -> None:
    source = _archive(
        tmp_path / "broken.tar.gz",
        _file("src/main.py", b"from .missing import helper\n\ndef main(context):\n    pass\n"),
    )
    function_id, deployment_id = _build(
        functions, source.read_bytes(), entrypoint="src/main.py"
    )
    failed = wait_for_build(functions, function_id, deployment_id)
    assert failed.status.value == "failed"
    assert "ModuleNotFoundError: No module named 'function.src.missing'" in failed.buildlogs
    assert 'File "src/main.py", line 1' in failed.buildlogs


def test_canceling_a_build_logs_no_unretrieved_exception(
    functions: Functions, platform: PlatformProcess, bundle: Callable[..., bytes]
) -> None:
    function_id, deployment_id = _build(functions, bundle("hello"), commands="sleep 30")
    deadline = time.monotonic() + 20
    while functions.get_deployment(function_id, deployment_id).status.value != "building":
        assert time.monotonic() < deadline, "the build never started"
        time.sleep(0.05)
    time.sleep(0.3)  # inside the commands step
    functions.update_deployment_status(function_id, deployment_id)
    canceled = wait_for_build(functions, function_id, deployment_id)
    assert canceled.status.value == "canceled"
    # The builder writes this once its task has unwound: asyncio reports a lost exception when
    # the future is freed, which by then has happened.
    while "Build canceled" not in functions.get_deployment(function_id, deployment_id).buildlogs:
        assert time.monotonic() < deadline, "the builder never noticed the cancel"
        time.sleep(0.05)
    log = platform.log_path.read_text(errors="replace")
    assert "exception was never retrieved" not in log
