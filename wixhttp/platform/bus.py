"""Announcements between the nodes sharing a database: PostgreSQL ``LISTEN``/``NOTIFY``.

Two channels (see the ``r0002`` migration):

* ``wixhttp_changes``: ``<project>/<function>`` when a function, its variables, activation or a
  deployment's status changed (sent by triggers, in the changing transaction): caches drop it.
* ``wixhttp_work``: ``executions`` or ``builds`` when there is work to claim: claimers wake up.

Each node holds one connection that only listens. When it is lost, the bus reconnects (every
second until it succeeds) and then calls the ``on_reconnect`` callbacks, since announcements may
have been missed meanwhile: caches must drop everything, claimers look for work. Listeners must
not rely on the bus alone: claimers poll at least once a second and caches expire.

On SQLite (one node) the bus is silent: the node tells itself directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import make_url

__all__ = ["CHANGES", "WORK", "Bus"]

log = logging.getLogger("wixhttp.platform")

CHANGES = "wixhttp_changes"
WORK = "wixhttp_work"
#: Seconds between two checks that the listening connection still answers.
CHECK_EVERY = 5.0
#: Seconds between two attempts to reconnect.
RETRY_EVERY = 1.0

Listener = Callable[[str], None]


def asyncpg_dsn(url: str) -> str:
    """An SQLAlchemy ``postgresql+asyncpg://`` URL as the DSN asyncpg itself takes."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Bus:
    """Delivers the database's announcements to this node's listeners (one per platform)."""

    def __init__(self, url: str, *, shared: bool) -> None:
        self._dsn = asyncpg_dsn(url) if shared else ""
        self._listeners: dict[str, list[Listener]] = {}
        self._reconnected: list[Callable[[], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self.connected = asyncio.Event()

    @property
    def active(self) -> bool:
        """Whether announcements come from other nodes (False on SQLite)."""
        return bool(self._dsn)

    def subscribe(self, channel: str, listener: Listener) -> None:
        """Call ``listener(payload)`` for every announcement on ``channel`` (subscribe before
        :meth:`start`)."""
        self._listeners.setdefault(channel, []).append(listener)

    def on_reconnect(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after the listening connection was lost and made again."""
        self._reconnected.append(callback)

    async def start(self) -> None:
        """Connect and listen; returns once listening (or at once on SQLite). A database that
        cannot be reached at start is the caller's error; later losses are retried."""
        if not self.active:
            return
        connection = await self._connect()
        self._task = asyncio.create_task(self._run(connection), name="wixhttp-bus")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _connect(self) -> Any:
        import asyncpg  # the platform extra's driver; only PostgreSQL needs it

        connection = await asyncpg.connect(self._dsn, timeout=10)
        self._lost.clear()
        connection.add_termination_listener(lambda _c: self._lost.set())
        for channel in self._listeners:
            await connection.add_listener(channel, self._deliver)
        self.connected.set()
        return connection

    def _deliver(self, _connection: Any, _pid: int, channel: str, payload: object) -> None:
        for listener in self._listeners.get(channel, ()):
            try:
                listener(str(payload))
            except Exception:  # one listener's bug must not silence the others
                log.exception("a listener of %s failed", channel)

    async def _run(self, connection: Any) -> None:
        try:
            while True:
                await self._watch(connection)
                self.connected.clear()
                with contextlib.suppress(Exception):
                    connection.terminate()
                log.warning("lost the database's announcements; reconnecting")
                connection = await self._reconnect()
                for callback in self._reconnected:
                    try:
                        callback()
                    except Exception:
                        log.exception("a reconnect callback failed")
        finally:
            with contextlib.suppress(Exception):
                connection.terminate()

    async def _watch(self, connection: Any) -> None:
        """Return once ``connection`` is lost: closed, or silent to a check."""
        while not self._lost.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._lost.wait(), CHECK_EVERY)
            if self._lost.is_set():
                return
            try:
                await asyncio.wait_for(connection.fetchval("SELECT 1"), CHECK_EVERY)
            except Exception:  # timed out, or the connection broke
                return

    async def _reconnect(self) -> Any:
        while True:
            try:
                return await self._connect()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("reconnecting to the database failed: %s", exc)
                await asyncio.sleep(RETRY_EVERY)
