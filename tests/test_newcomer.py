"""A newcomer's first hour, as they live it: the README's quickstart and what `wixhttp new`
prints, run as written (real subprocesses in a fresh folder)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from importlib.metadata import requires
from pathlib import Path

from tests._servers import run_cli, running

ROOT = Path(__file__).resolve().parent.parent


def quickstart() -> list[str]:
    """The commands of the README's Quickstart block, comments kept."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Quickstart\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip()]


def extra_requirements(extra: str) -> list[str]:
    """The requirements wixhttp's ``extra`` installs (from the installed metadata)."""
    marker = re.compile(rf"""extra\s*==\s*["']{extra}["']""")
    return [r.split(";")[0].strip() for r in requires("wixhttp") or [] if marker.search(r)]


def run_as_written(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``wixhttp ...`` or ``pytest ...`` in ``cwd``, with this interpreter."""
    program, *args = shlex.split(command, comments=True)
    assert program in ("wixhttp", "pytest"), command
    return subprocess.run(
        [sys.executable, "-m", program, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_the_quickstart_installs_from_a_clone_with_what_the_site_tests_need() -> None:
    installs = [line for line in quickstart() if line.split()[:2] == ["pip", "install"]]
    assert installs, quickstart()
    # `pip install wixhttp` needs a published package: a clone installs itself, editable.
    [install] = installs
    target = shlex.split(install, comments=True)[-1]
    assert target.startswith(".[") and "-e" in install, install
    extras = target.removeprefix(".[").removesuffix("]").split(",")
    assert any(r.startswith("pytest") for extra in extras for r in extra_requirements(extra))


def test_the_quickstart_runs_as_written(tmp_path: Path) -> None:
    for line in quickstart():
        if line.startswith(("pytest", "wixhttp")) and not line.startswith("wixhttp dev"):
            result = run_as_written(line, tmp_path)
            assert result.returncode == 0, f"{line}\n{result.stdout}{result.stderr}"
    [dev] = [line for line in quickstart() if line.startswith("wixhttp dev")]
    [url] = re.findall(r"http://127\.0\.0\.1:8000(/\S+)", dev)
    # `running` starts it elsewhere: the site's path is made absolute.
    command, *args = shlex.split(dev, comments=True)[1:]
    args = [a if a.startswith("-") else str(tmp_path / a) for a in args]
    with running([command, *args], log_dir=tmp_path) as server, server.client() as client:
        assert client.get(url).status_code == 200


def test_new_prints_next_steps_that_work_as_printed(tmp_path: Path) -> None:
    created = run_cli("new", "mysite", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    steps = created.stdout.split("next:\n", 1)[1].splitlines()
    commands = [line.split("#", 1)[0].strip() for line in steps]
    assert {c.split()[0] for c in commands} == {"wixhttp", "pytest"}, steps
    for command in commands:
        if not command.startswith("wixhttp dev"):
            result = run_as_written(command, tmp_path)
            assert result.returncode == 0, f"{command}\n{result.stdout}{result.stderr}"
    # The tests need pytest, which the base install lacks: the install named provides it.
    [pytest_step] = [line for line in steps if line.strip().startswith("pytest")]
    [extra] = re.findall(r"pip install 'wixhttp\[(\w+)\]'", pytest_step)
    assert any(r.startswith("pytest") for r in extra_requirements(extra))


def test_two_new_sites_side_by_side_are_tested_together(tmp_path: Path) -> None:
    for name in ("shop", "blog"):
        assert run_cli("new", str(tmp_path / "sites" / name)).returncode == 0
    result = run_as_written("pytest -p no:cacheprovider sites", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 passed" in result.stdout


def test_the_new_sites_tests_ignore_an_enclosing_projects_pytest_settings(
    tmp_path: Path,
) -> None:
    # A site made inside a clone of wixhttp: the clone's settings (-W error, pytest-asyncio's
    # options) are not the site's.
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\naddopts = "--no-such-option"\n'
    )
    assert run_cli("new", "mysite", cwd=tmp_path).returncode == 0
    result = run_as_written("pytest mysite", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
