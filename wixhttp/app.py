"""The ASGI application: bytes in, a handler call, bytes out.

The request path reads top to bottom in :meth:`WixHttpApp.__call__`. Routing is a split and a
dict lookup against a route table built at load time; the request object computes its
properties only when a handler reads them. The route table lives in one attribute, so the dev
reloader swaps it atomically: a request in flight keeps the table it started with.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time
from collections.abc import Iterable
from types import ModuleType
from urllib.parse import unquote

from starlette.types import Message, Receive, Scope, Send

from wixhttp.console import PREFIX, Console, serve_path
from wixhttp.cors import Cors
from wixhttp.deadlines import DeadlineExceeded
from wixhttp.errorpage import debug_reply
from wixhttp.errors import HandlerError, accept_header, error_response
from wixhttp.intake import Disconnected, Intake, Refused
from wixhttp.invoke import Invoker, Overloaded, coerce, late_answer
from wixhttp.jsonify import JSONDefault, UnencodableBody, make_encoder
from wixhttp.loading import LoadedSite, SiteLoadError, load_site
from wixhttp.logs import access_fields, current_function
from wixhttp.request import InvalidJSONBody, WixHttpFunctionRequest, app_path
from wixhttp.routing import Handler, RouteTable
from wixhttp.settings import CORS, Settings

__all__ = ["WixHttpApp", "create_app"]

access_log = logging.getLogger("wixhttp.access")
error_log = logging.getLogger("wixhttp.error")

URL_PREFIXES = frozenset({"_functions", "_functions-dev"})
_NO_BODY = b""
_Reply = tuple[int, list[tuple[bytes, bytes]], bytes]  # status, headers, body


class WixHttpApp:
    """Serves a site's HTTP functions under ``/_functions`` and ``/_functions-dev``.

    ``routes`` can be replaced at any time (see :meth:`swap`); ``load_error``, when set, is
    shown for every function request instead of running code (the dev server's broken-save
    state). ``generation`` counts swaps; with ``live_reload`` (set by the dev reloader) debug
    error pages poll it at ``/_wixhttp/reload-state`` and reload themselves. ``console`` serves
    the dev console under ``/_wixhttp/`` (see :mod:`wixhttp.console`).
    """

    def __init__(
        self,
        site: LoadedSite | None,
        settings: Settings,
        *,
        load_error: SiteLoadError | None = None,
        json_default: JSONDefault | None = None,
        console: bool = False,
    ) -> None:
        self.settings = settings
        self._encode = make_encoder(json_default)
        self.site = site
        self.routes: RouteTable = site.routes if site else RouteTable()
        self.load_error = load_error
        self._intake = Intake(settings.max_body_size, settings.max_header_size)
        self._timeout = settings.timeout
        self._debug = settings.debug
        self._trusted = settings.trusted_proxies if settings.trusted_proxies else None
        self._invoker = Invoker(self._timeout, debug=self._debug)
        self._invoke = self._invoker.run
        self.console = Console() if console else None
        if self.console is not None:  # tags try-it requests to capture their output
            self._invoke = self.console.traced(self._invoke)
        self._cors = Cors.of(settings.cors)  # None when off: no per-request cost
        self.generation = 0
        self.live_reload = False

    def swap(self, site: LoadedSite | None, load_error: SiteLoadError | None = None) -> None:
        """Serve ``site`` from the next request on (or show ``load_error``)."""
        if site is not None:
            self.site = site
            self.routes = site.routes
        self.load_error = load_error
        self.generation += 1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._non_http(scope, receive, send)
            return
        started = time.perf_counter()
        if self._cors is not None:
            send = self._cors.wrap(scope, send)
        method: str = scope["method"]
        path = app_path(scope)  # still percent-encoded: "%2F" stays inside its segment

        # "/_functions/<name>/<rest>" -> prefix, name, rest
        parts = path.split("/", 3)
        if len(parts) < 3 or parts[1] not in URL_PREFIXES or not parts[2]:
            if path.startswith(PREFIX) and await serve_path(self, scope, receive, send, path):
                return  # the reload state, the console (not logged: the console polls)
            await self._error(send, scope, 404, "not_found", _NOT_FOUND_MESSAGE)
            self._log(scope, "-", method, path, 404, started)
            return
        prefix, name = parts[1], parts[2]
        if "%" in name:
            name = unquote(name)
        rest = parts[3] if len(parts) > 3 else ""

        if self.load_error is not None:
            err = self.load_error
            await self._error(send, scope, 500, "site_load_error", str(err), exc=err)
            self._log(scope, name, method, path, 500, started)
            return

        route = self.routes.functions.get(name)
        if route is None:
            message = f"no HTTP function named {name!r}"
            await self._error(send, scope, 404, "function_not_found", message)
            self._log(scope, name, method, path, 404, started)
            return
        if method == "OPTIONS" and self._cors is not None and "OPTIONS" not in route.dispatch:
            preflight = self._cors.preflight(scope, route)  # a user's options_ handler wins
            if preflight is not None:
                self._log(scope, name, method, path, await _send(send, scope, preflight), started)
                return
        handler = route.handler_for(method)
        if handler is None:
            message = f"{method} is not allowed for function {name!r}; allowed: {route.allow}"
            allow = [(b"allow", route.allow.encode("latin-1"))]
            await self._error(send, scope, 405, "method_not_allowed", message, extra=allow)
            self._log(scope, name, method, path, 405, started)
            return

        status = await self._dispatch(scope, receive, send, handler, prefix, name, rest)
        self._log(scope, name, method, path, status, started)

    async def _dispatch(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        handler: Handler,
        prefix: str,
        name: str,
        rest: str,
    ) -> int:
        """Read the body, run the handler, send the answer; the status sent (499: caller gone)."""
        try:
            body = await self._intake.read(scope, receive)
        except Disconnected:
            return 499
        except Refused as refused:
            reply = self._error_reply(scope, refused.status, refused.code, refused.message)
        else:
            request = WixHttpFunctionRequest(
                scope,
                prefix,
                name,
                rest,
                body,
                trusted_proxies=self._trusted,
            )
            late = _LateAnswer(self, scope, send, handler, name)
            token = late_answer.set(late)
            try:
                reply = await self._run_handler(scope, handler, request, body)
            finally:
                late_answer.reset(token)
            if late.sent:  # the handler ended at last; its caller already has a 504
                return 504
        return await _send(send, scope, reply)

    async def _run_handler(
        self, scope: Scope, handler: Handler, request: WixHttpFunctionRequest, body: bytes
    ) -> _Reply:
        """Invoke the handler and render its answer, or the error it maps to: 504 past the
        timeout, 400 for a body that is not JSON, 500 for anything else."""
        token = current_function.set(handler.export_name)
        try:
            response = coerce(await self._invoke(handler, request), handler)
            data, headers = response.render(self._encode)
            return response.status, headers, data
        except DeadlineExceeded:
            error_log.error(
                "%s: handler %s ran past the %.3gs timeout",
                handler.location,
                handler.export_name,
                self._timeout,
            )
            return self._timeout_reply(scope, request.function_name)
        except InvalidJSONBody as exc:
            return self._error_reply(scope, 400, "invalid_json", str(exc))
        except Overloaded as exc:
            error_log.warning("%s; answering 503 until some finish", exc)
            retry = [(b"retry-after", b"%d" % math.ceil(self._timeout))]
            return self._error_reply(scope, 503, "overloaded", str(exc), extra=retry)
        except HandlerError as exc:
            error_log.error("%s", exc)
            return self._server_error(scope, str(exc), exc, body)
        except UnencodableBody as exc:  # the body is the user's; no frame of ours helps
            where = f"{handler.location}: handler {handler.export_name} returned a body that"
            error_log.error("%s is not JSON: %s", where, exc)
            return self._server_error(scope, f"{where} is not JSON: {exc}", None, body)
        except (Exception, SystemExit) as exc:  # sys.exit() in a handler is its own bug, not ours
            error_log.exception(
                "%s: handler %s raised %s",
                handler.location,
                handler.export_name,
                type(exc).__name__,
            )
            return self._server_error(scope, f"{type(exc).__name__}: {exc}", exc, body)
        finally:
            current_function.reset(token)

    def _timeout_reply(self, scope: Scope, name: str) -> _Reply:
        message = f"function {name!r} did not answer within {self._timeout:g} seconds"
        return self._error_reply(scope, 504, "timeout", message)

    def _server_error(
        self, scope: Scope, message: str, exc: BaseException | None, body: bytes = _NO_BODY
    ) -> _Reply:
        if not self._debug:
            return self._error_reply(scope, 500, "internal_error", "Internal Server Error")
        return self._error_reply(scope, 500, "internal_error", message, exc=exc, body=body)

    def _error_reply(
        self,
        scope: Scope,
        status: int,
        code: str,
        message: str,
        *,
        extra: list[tuple[bytes, bytes]] | None = None,
        exc: BaseException | None = None,
        body: bytes | None = None,
    ) -> _Reply:
        """The error reply; in debug mode, with the exception's traceback (a page for browsers)."""
        if self._debug and exc is not None:
            directory = self.site.directory if self.site else None
            generation = self.generation if self.live_reload else None
            return debug_reply(
                exc, status=status, code=code, message=message, scope=scope, body=body,
                directory=directory, generation=generation,
            )
        accept = accept_header(scope)
        return error_response(status, code, message, accept=accept, extra_headers=extra)

    async def _error(
        self,
        send: Send,
        scope: Scope,
        status: int,
        code: str,
        message: str,
        *,
        extra: list[tuple[bytes, bytes]] | None = None,
        exc: BaseException | None = None,
    ) -> None:
        reply = self._error_reply(scope, status, code, message, extra=extra, exc=exc)
        await _send(send, scope, reply)

    def _log(
        self, scope: Scope, name: str, method: str, path: str, status: int, started: float
    ) -> None:
        if self.console is not None and self.console.feed.subscribers:  # a console is open
            self.console.feed.request(name, method, path, status, time.perf_counter() - started)
        if access_log.isEnabledFor(logging.INFO):
            elapsed = (time.perf_counter() - started) * 1000
            fields = access_fields(scope, name, method, path, status, elapsed)
            access_log.info(
                "%s %s %s %d %.1fms", name, method, path, status, elapsed, extra=fields
            )

    async def _non_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message: Message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    self.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1003})

    def close(self) -> None:
        """Release the handler thread pool (threads still running finish on their own)."""
        self._invoker.close()


class _LateAnswer:
    """Sends the 504 of an ``async def`` handler that caught the cancellation at its timeout
    and carries on: the caller is answered, the handler is left running, loudly."""

    __slots__ = ("app", "scope", "send", "handler", "name", "sent")
    tasks: set[asyncio.Task[int]] = set()  # the sends in flight, held from the collector

    def __init__(
        self, app: WixHttpApp, scope: Scope, send: Send, handler: Handler, name: str
    ) -> None:
        self.app, self.scope, self.send, self.handler, self.name = app, scope, send, handler, name
        self.sent = False

    def __call__(self) -> None:
        self.sent = True
        error_log.error(
            "%s: handler %s ignored its cancellation at the %.3gs timeout and is still running; "
            "its caller got 504. Let asyncio.CancelledError propagate (catch Exception, not "
            "BaseException)",
            self.handler.location,
            self.handler.export_name,
            self.app.settings.timeout,
        )
        reply = self.app._timeout_reply(self.scope, self.name)
        task = asyncio.get_running_loop().create_task(_send(self.send, self.scope, reply))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


_NOT_FOUND_MESSAGE = "not found; HTTP functions are served at " + " and ".join(
    f"/{prefix}/<name>" for prefix in sorted(URL_PREFIXES)
)


async def _send(send: Send, scope: Scope, reply: _Reply) -> int:
    """Send ``reply`` (no body to a HEAD request); its status."""
    status, headers, body = reply
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
    return status


def create_app(
    site: str | os.PathLike[str] | ModuleType,
    *,
    max_body_size: int | None = None,
    timeout: float | None = None,
    debug: bool | None = None,
    trusted_proxies: Iterable[str] | str | None = None,
    cors: CORS | str | Iterable[str] | None = None,
    json_default: JSONDefault | None = None,
    console: bool = False,
    max_header_size: int | None = None,
) -> WixHttpApp:
    """An ASGI app serving ``site``: a directory holding ``http_functions.py``, the path of a
    ``.py`` file, or an imported module.

    Defaults: ``max_body_size`` 512 KiB, ``max_header_size`` 64 KiB (names and values; more is
    a 431), ``timeout`` 14 s, ``debug`` off, no trusted proxies. Each can come from
    ``WIXHTTP_MAX_BODY_SIZE``, ``WIXHTTP_MAX_HEADER_SIZE``, ``WIXHTTP_TIMEOUT``,
    ``WIXHTTP_DEBUG`` and ``WIXHTTP_TRUSTED_PROXIES``; an explicit argument wins. ``cors``
    (origins, ``"*"`` or a :class:`~wixhttp.settings.CORS`; default off, or
    ``WIXHTTP_CORS_*``) answers preflights and adds CORS headers (see :mod:`wixhttp.cors`).
    ``json_default`` writes body values JSON cannot hold (see
    :func:`wixhttp.jsonify.make_encoder`); ``console`` serves the console under
    ``/_wixhttp/`` (see :mod:`wixhttp.console`). Raises
    :class:`~wixhttp.loading.SiteLoadError` when the site cannot be loaded.
    """
    settings = Settings.resolve(
        max_body_size=max_body_size,
        timeout=timeout,
        debug=debug,
        trusted_proxies=trusted_proxies,
        cors=cors,
        max_header_size=max_header_size,
    )
    return WixHttpApp(load_site(site), settings, json_default=json_default, console=console)
