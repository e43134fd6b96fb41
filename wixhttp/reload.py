"""The dev server's hot reload: watch the site, re-load it off the event loop, swap atomically.

One process, one listening socket. On a save, the site's modules are compiled afresh in a
worker thread; only then is the app's route table replaced, in a single attribute assignment.
Requests already running finish on the code they started with, new ones get the new code, and
open keep-alive connections never notice. A broken save leaves the server up: the error is
logged with file and line and, unless ``keep_last_good`` is set, shown by every endpoint until
the next good save. A browser showing an error page reloads it by itself after the next swap.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path

import watchfiles
from dotenv import dotenv_values

from wixhttp.app import WixHttpApp
from wixhttp.loading import LoadedSite, SiteLoadError, load_site
from wixhttp.routing import RouteTable

__all__ = ["EnvFile", "Reloader", "SiteWatchFilter"]

log = logging.getLogger("wixhttp.reload")

# watchfiles checks every `step` ms and yields once the set of changed paths stops growing, so
# `step` sets the latency (its default of 50 ms adds ~60 ms; measured in bench/reload.py). It
# does not wait for repeated writes to the same file to settle: see SETTLE_SECONDS.
WATCH_STEP_MS = 10
WATCH_DEBOUNCE_MS = 50
# A save that lands as several writes (or a `git checkout` of many files) can be read half
# written. A failed load is retried while the changed files are still changing, and the error
# is shown only once they have been still for this long.
SETTLE_SECONDS = 0.03
MAX_SETTLE_RETRIES = 20


class SiteWatchFilter(watchfiles.DefaultFilter):
    """Python sources and ``.env`` only; caches, VCS folders and editor swap files are ignored."""

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        name = os.path.basename(path)
        return (name.endswith(".py") or name == ".env") and super().__call__(change, path)


class EnvFile:
    """The site's ``.env``: applied to ``os.environ``; on change, keys it dropped are removed.

    A variable already set when the process started (by the shell, a container, systemd)
    wins over the file, as with python-dotenv's default: the file fills in, never overrides.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.applied: dict[str, str] = {}
        self.outside = frozenset(os.environ)

    def apply(self) -> int:
        values = (
            {
                k: v
                for k, v in dotenv_values(self.path).items()
                if v is not None and k not in self.outside
            }
            if self.path.is_file()
            else {}
        )
        for key in self.applied.keys() - values.keys():
            os.environ.pop(key, None)
        os.environ.update(values)
        self.applied = values
        return len(values)


def _fingerprint(paths: Iterable[str]) -> list[tuple[int, int] | None]:
    result: list[tuple[int, int] | None] = []
    for path in paths:
        try:
            stat = os.stat(path)
        except OSError:
            result.append(None)
        else:
            result.append((stat.st_mtime_ns, stat.st_size))
    return result


def _route_keys(routes: RouteTable) -> set[str]:
    return {h.export_name for h in routes.handlers()}


def _describe(changes: Iterable[tuple[watchfiles.Change, str]], root: Path) -> str:
    names = set()
    for _, path in changes:
        try:
            names.add(str(Path(path).relative_to(root)))
        except ValueError:
            names.add(path)
    return ", ".join(sorted(names))


def _report(exc: SiteLoadError, consequence: str) -> None:
    log.error("%s: %s", consequence, exc)
    if "Traceback" in exc.details:
        log.error("%s", exc.details.rstrip())


class Reloader:
    """Keeps ``app`` serving the current code of the site at ``entry``."""

    def __init__(
        self,
        app: WixHttpApp,
        entry: Path,
        *,
        keep_last_good: bool = False,
        env: EnvFile | None = None,
    ) -> None:
        self.app = app
        self.entry = entry
        self.directory = entry.parent
        self.keep_last_good = keep_last_good
        self.env = env or EnvFile(self.directory / ".env")
        # Each swap bumps app.generation; debug error pages poll it and reload themselves.
        app.live_reload = True

    def load_initial(self) -> None:
        """Load the site once at start-up; a broken site is shown, not fatal."""
        self.env.apply()
        try:
            self.app.swap(load_site(self.entry))
        except SiteLoadError as exc:
            _report(exc, "the site is broken; endpoints answer 500 until it is fixed")
            self.app.swap(None, exc)

    async def _load_settled(self, paths: Iterable[str]) -> LoadedSite:
        """Load the site; if that fails while ``paths`` are still being written, try again."""
        loop = asyncio.get_running_loop()
        watched = sorted(set(paths))
        for _ in range(MAX_SETTLE_RETRIES):
            before = _fingerprint(watched)
            try:
                return await loop.run_in_executor(None, load_site, self.entry)
            except SiteLoadError:
                await asyncio.sleep(SETTLE_SECONDS)
                if _fingerprint(watched) == before:
                    raise
        return await loop.run_in_executor(None, load_site, self.entry)

    async def reload(
        self, what: str, *, paths: Iterable[str] = (), env_changed: bool = False
    ) -> None:
        """Re-load the site off the event loop and swap it in."""
        started = time.perf_counter()
        if env_changed:
            count = self.env.apply()
            what = f"{what} (environment: {count} variables)"
        before = _route_keys(self.app.routes)
        try:
            site = await self._load_settled(paths)
        except SiteLoadError as exc:
            failed = f"reload failed after {what} changed"
            if self.keep_last_good and self.app.site is not None:
                _report(exc, f"{failed}; still serving the last good code")
            else:
                _report(exc, f"{failed}; endpoints answer 500 until fixed")
                self.app.swap(None, exc)
            self._publish(False, f"{failed}: {exc}")
            return
        self.app.swap(site)
        elapsed = (time.perf_counter() - started) * 1000
        after = _route_keys(site.routes)
        added, removed = sorted(after - before), sorted(before - after)
        delta = " ".join([*(f"+{n}" for n in added), *(f"-{n}" for n in removed)])
        message = f"reloaded in {elapsed:.1f} ms after {what} changed; {len(after)} handlers"
        message += f" ({delta})" if delta else ""
        log.info("%s", message)
        self._publish(True, message)

    def _publish(self, ok: bool, message: str) -> None:
        """Tell the console's live feed, if the app has a console."""
        if self.app.console is not None:
            self.app.console.feed.reload(ok, message, self.app.generation)

    async def watch(self, stop: asyncio.Event) -> None:
        """Watch the site directory until ``stop`` is set."""
        async for changes in watchfiles.awatch(
            self.directory,
            watch_filter=SiteWatchFilter(),
            step=WATCH_STEP_MS,
            debounce=WATCH_DEBOUNCE_MS,
            stop_event=stop,
            recursive=True,
        ):
            paths = [path for _, path in changes]
            env_changed = any(os.path.basename(p) == ".env" for p in paths)
            await self.reload(
                _describe(changes, self.directory), paths=paths, env_changed=env_changed
            )
