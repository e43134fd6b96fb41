"""The dev console at ``/_wixhttp/``: the site's functions, a try-it panel, a live feed of
requests and reloads, the current load error, and the OpenAPI document.

On in ``wixhttp dev``, off in ``serve`` unless ``--console`` is given, and never under
``/_functions``. Off, it costs nothing; on and idle (no page open), a request pays one check.
Every file it serves ships in the package; nothing it loads leaves the machine.
"""

from __future__ import annotations

import json

from wixhttp.console.endpoints import PREFIX, serve_path
from wixhttp.console.feed import Feed
from wixhttp.console.traces import TRACE_HEADER, Run, Traces
from wixhttp.console.traces import traced as _traced
from wixhttp.openapi import build_document
from wixhttp.routing import RouteTable

__all__ = ["PREFIX", "TRACE_HEADER", "Console", "serve_path"]


class Console:
    """The console's state: its live feed, the try-it traces, the OpenAPI document's cache."""

    def __init__(self) -> None:
        self.feed = Feed()
        self.traces = Traces()
        self._openapi: tuple[int, RouteTable, bytes] | None = None

    def traced(self, run: Run) -> Run:
        """``run`` (the app's handler call), keeping what try-it requests print and log."""
        return _traced(run, self.traces, self.feed.subscribers)

    def openapi(self, generation: int, routes: RouteTable) -> bytes:
        """The OpenAPI document of ``routes``, built once per reload."""
        cached = self._openapi
        if cached is None or cached[0] != generation or cached[1] is not routes:
            document = json.dumps(build_document(routes), indent=2).encode()
            cached = self._openapi = (generation, routes, document)
        return cached[2]
