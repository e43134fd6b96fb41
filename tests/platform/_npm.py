"""npm packages for the tests that drive the platform with real Appwrite clients (node-appwrite,
the Appwrite CLI).

Each package version is installed once into its own folder of a cache shared by test runs
(``WIXHTTP_TEST_NPM_CACHE``, default ``~/.cache/wixhttp-tests/npm``); ``.ci/run`` warms it with
``python -m tests.platform._npm``. Where ``npm`` or ``node`` is missing, or the registry cannot be
reached, the tests that need a package skip with a message saying so.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

__all__ = ["PACKAGES", "install", "node_modules", "require"]

#: What the client tests use: name -> versions (an npm version or range).
PACKAGES: dict[str, tuple[str, ...]] = {
    "node-appwrite": ("27", "20", "17"),
    "appwrite-cli": ("12",),
}


def cache_root() -> Path:
    default = Path.home() / ".cache" / "wixhttp-tests" / "npm"
    return Path(os.environ.get("WIXHTTP_TEST_NPM_CACHE", default))


def _folder(name: str, version: str) -> Path:
    return cache_root() / f"{name.replace('/', '__')}@{version}"


def install(name: str, version: str) -> Path:
    """The ``node_modules`` folder holding ``name@version``, installed on first use. Raises
    ``RuntimeError`` with npm's message when it cannot be installed."""
    folder = _folder(name, version)
    done = folder / ".installed"
    if done.exists():
        return folder / "node_modules"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:  # two test processes install it once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            npm = shutil.which("npm")
            if npm is None:
                raise RuntimeError("npm is not installed")
            result = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--loglevel=error",
                 "--prefix", str(folder), f"{name}@{version}"],
                capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
            if result.returncode != 0:
                raise RuntimeError(f"npm install {name}@{version} failed: {result.stderr[-800:]}")
            done.write_text(f"{name}@{version}\n")
    return folder / "node_modules"


def require(name: str, version: str) -> Path:
    """``install`` for a test: skips it with the reason when the package is unavailable."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip(f"{name}@{version} needs node and npm (not installed here)")
    try:
        return install(name, version)
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        pytest.skip(f"{name}@{version} could not be installed: {exc}")


def node_modules(name: str, version: str) -> Path | None:
    """The installed package's ``node_modules``, or None when it is not installed yet."""
    folder = _folder(name, version)
    return folder / "node_modules" if (folder / ".installed").exists() else None


def main() -> int:
    """Install every package the tests use (``.ci/run`` calls this to warm the cache)."""
    failed = 0
    for name, versions in PACKAGES.items():
        for version in versions:
            try:
                print(f"npm: {name}@{version} -> {install(name, version)}")
            except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
                failed += 1
                print(f"npm: {name}@{version}: {exc}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
