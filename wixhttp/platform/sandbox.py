"""Running user code (workers and build commands) sandboxed by bubblewrap (``bwrap``).

Under ``--isolation bwrap`` a worker or a build step runs in its own mount, PID and IPC
namespaces: it sees a read-only system (``/usr``, the libraries, a few files of ``/etc``), the
Python installation and the wixhttp package read-only, its own code (writable for a build
only), its own socket folder, a private ``/tmp`` and its own ``/proc`` (no other process).
Never the data directory, the database or other functions. When the platform runs as root the
code runs as an unprivileged user derived from the function's id (``setpriv``), with resource
limits set by ``prlimit``. The network is kept: functions call external APIs and the platform's
API (which needs a key).

``--isolation none`` runs user code as the platform's own user, unsandboxed (a warning at start).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import wixhttp

__all__ = [
    "BWRAP",
    "NONE",
    "Limits",
    "Sandbox",
    "bwrap_works",
    "current",
    "install",
    "sandbox_uid",
]

log = logging.getLogger("wixhttp.platform")

BWRAP = "bwrap"
NONE = "none"

#: Unprivileged users for functions: ``UID_BASE`` plus a hash of the function's id.
UID_BASE = 200_000
UID_RANGE = 100_000

#: The few files of ``/etc`` user code may need (name resolution, TLS roots, time zone).
_ETC = (
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/nsswitch.conf",
    "/etc/host.conf",
    "/etc/gai.conf",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",
    "/etc/mime.types",
    "/etc/os-release",
    "/etc/debian_version",
    "/etc/pip.conf",
)
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


@dataclass(frozen=True)
class Limits:
    """Resource limits per worker or build step (0: none). Memory is ``RLIMIT_DATA`` (the heap
    and private mappings; thread stacks' reserved address space is not counted), 512 MB like
    Appwrite's default specification; CPU seconds are counted over a worker's life (a worker
    that reaches them is killed and replaced); processes count every thread of the function's
    user."""

    memory_mb: int = 512
    cpu_seconds: int = 3600
    processes: int = 512
    open_files: int = 4096

    def prlimit(self) -> list[str]:
        args = []
        if self.memory_mb:
            args.append(f"--data={self.memory_mb * 1024 * 1024}")
        if self.cpu_seconds:
            args.append(f"--cpu={self.cpu_seconds}")
        if self.processes:
            args.append(f"--nproc={self.processes}")
        if self.open_files:
            args.append(f"--nofile={self.open_files}")
        return ["prlimit", *args, "--"] if args else []


def sandbox_uid(function_id: str) -> int:
    """The unprivileged user a function's code runs as (the platform running as root)."""
    digest = hashlib.sha256(function_id.encode()).digest()
    return UID_BASE + int.from_bytes(digest[:8], "big") % UID_RANGE


def _runtime_paths() -> list[str]:
    """The Python installation, the virtual environment and the wixhttp package."""
    package = Path(wixhttp.__file__).resolve().parent
    paths = {sys.base_prefix, sys.prefix, sys.exec_prefix, str(package)}
    paths.update(p for p in sys.path if p and os.path.isdir(p) and "site-packages" in p)
    return sorted(os.path.realpath(p) for p in paths)


@dataclass(frozen=True)
class Sandbox:
    """How user code is started: ``mode`` is :data:`BWRAP` or :data:`NONE`."""

    mode: str = NONE
    limits: Limits = field(default_factory=Limits)
    bwrap: str = "bwrap"

    @property
    def active(self) -> bool:
        return self.mode == BWRAP

    def wrap(
        self,
        args: list[str],
        *,
        function_id: str,
        code: Path,
        writable: Iterable[str] = (),
        code_writable: bool = False,
    ) -> list[str]:
        """``args`` as run in the sandbox (unchanged under ``none``): ``code`` read-only
        (writable if ``code_writable``), ``writable`` folders bound read-write (a worker's
        socket folder), ``/tmp`` private. The caller passes the environment (only the
        function's): nothing else of the platform's reaches it."""
        if not self.active:
            return args
        command = [
            self.bwrap,
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--die-with-parent",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--perms",
            "1777",
            "--tmpfs",
            "/tmp",
        ]
        command += _system_binds()
        made = {"/", "/tmp", "/proc", "/dev"}
        for path in _runtime_paths():
            command += _parents(path, made) + ["--ro-bind", path, path]
        code_path = str(code)
        command += _parents(code_path, made)
        command += ["--bind" if code_writable else "--ro-bind", code_path, code_path]
        for path in writable:
            command += _parents(path, made) + ["--bind", path, path]
        command += ["--chdir", code_path, "--setenv", "HOME", "/tmp", "--setenv", "TMPDIR", "/tmp"]
        command += ["--"]
        command += self.limits.prlimit()
        if os.geteuid() == 0:
            uid = str(sandbox_uid(function_id))
            command += [
                "setpriv",
                f"--reuid={uid}",
                f"--regid={uid}",
                "--clear-groups",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--no-new-privs",
                "--",
            ]
        return command + args


def _parents(path: str, made: set[str]) -> list[str]:
    """Folders leading to ``path``, made traversable (bwrap makes them 0700, which an
    unprivileged user cannot cross)."""
    args: list[str] = []
    for parent in reversed(Path(path).parents):
        name = str(parent)
        if name not in made:
            made.add(name)
            args += ["--perms", "0755", "--dir", name]
    made.add(path)
    return args


def _system_binds() -> list[str]:
    binds: list[str] = []
    for path in _SYSTEM:
        if os.path.islink(path):
            binds += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            binds += ["--ro-bind", path, path]
    binds += ["--perms", "0755", "--dir", "/etc"]  # bwrap would make it 0700: not crossable
    for path in _ETC:
        if os.path.exists(path):
            binds += ["--ro-bind", path, path]
    return binds


def chown_tree(root: Path, function_id: str) -> None:
    """Give ``root`` (a build's code folder) to the function's user, so its sandboxed build
    commands can write there (the platform running as root; nothing to do otherwise)."""
    if os.geteuid() != 0:
        return
    uid = sandbox_uid(function_id)
    os.chown(root, uid, uid, follow_symlinks=False)
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            os.chown(os.path.join(folder, name), uid, uid, follow_symlinks=False)


def bwrap_works(bwrap: str = "bwrap") -> str:
    """"" if a sandbox can be started on this host, else why not."""
    path = shutil.which(bwrap)
    if path is None:
        return "bwrap is not installed (Debian: apt-get install bubblewrap)"
    tools = ["prlimit"] + (["setpriv"] if os.geteuid() == 0 else [])
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not found (Debian: util-linux)"
    probe = Sandbox(BWRAP, bwrap=path).wrap(
        ["/bin/true"], function_id="probe", code=Path(os.getcwd())
    )
    try:
        done = subprocess.run(probe, capture_output=True, timeout=20, check=False)
    except OSError as exc:
        return f"bwrap could not start: {exc}"
    if done.returncode != 0:
        return f"bwrap does not work here: {done.stderr.decode(errors='replace').strip()}"
    return ""


_current = Sandbox()


def install(sandbox: Sandbox) -> None:
    """Make ``sandbox`` the one this process starts user code with (set once at start by
    ``wixhttp platform``; the default is :data:`NONE`)."""
    global _current
    _current = sandbox


def current() -> Sandbox:
    """The sandbox user code is started with in this process."""
    return _current
