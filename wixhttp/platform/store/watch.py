"""Noticing an SQLite database file that went away while the platform runs.

SQLite keeps writing to a file deleted (or replaced) under it: its open connections hold the old
inode, every write "succeeds", and all of it is gone at the next start. :class:`FileWatch`
remembers the file's identity once the store is open and compares it at most every half second;
once it differs, the platform answers 503 and says so in its log, until it is restarted (which
opens whatever file is there then: a restored copy, or a new empty database).
"""

from __future__ import annotations

import logging
import os
import time

from sqlalchemy import make_url

__all__ = ["FileWatch"]

log = logging.getLogger("wixhttp.platform")

#: Seconds between two looks at the file (a stat each).
EVERY = 0.5


class FileWatch:
    """The identity (device, inode) of the SQLite file at ``path``; no file (PostgreSQL, or an
    in-memory database): nothing to watch."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._identity: tuple[int, int] | None = None
        self._next = 0.0
        self._lost: str | None = None

    @classmethod
    def for_url(cls, url: str) -> FileWatch:
        parsed = make_url(url)
        database = parsed.database or ""
        watched = parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
        return cls(os.path.abspath(database) if watched else None)

    def arm(self) -> None:
        """Remember the file as it is now (the store has just opened it)."""
        if self.path is not None:
            self._identity = self._stat()

    def lost(self) -> str | None:
        """Why the database is gone (a sentence for the caller), or None while it is there."""
        if self._lost is not None or self._identity is None:
            return self._lost
        moment = time.monotonic()
        if moment < self._next:
            return None
        self._next = moment + EVERY
        if self._stat() != self._identity:
            self._lost = (
                "The platform's database file was deleted or replaced while the platform runs: "
                "nothing can be saved, so requests are refused. Restore the file (or accept a "
                "new, empty database) and restart the platform."
            )
            log.error(
                "database lost: %s is no longer the file opened at start-up (%s)",
                self.path,
                "missing" if not os.path.exists(str(self.path)) else "replaced",
            )
        return self._lost

    def _stat(self) -> tuple[int, int] | None:
        try:
            info = os.stat(str(self.path))
        except OSError:
            return None
        return info.st_dev, info.st_ino
