"""A test client for sites: ``TestClient(site).get("/_functions/hello")``.

It is an ``httpx.Client`` that calls the app in-process (no server, no socket), so a user's
pytest suite runs in milliseconds::

    from wixhttp.testing import TestClient

    def test_hello():
        with TestClient("path/to/site") as client:
            assert client.get("/_functions/hello").json() == {"message": "hello"}
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import anyio.from_thread
import httpx

from wixhttp.app import WixHttpApp, create_app
from wixhttp.jsonify import JSONDefault
from wixhttp.loading import SiteLoadError, resolve_site
from wixhttp.reload import EnvFile
from wixhttp.settings import CORS

__all__ = ["TestClient"]


class _AppTransport(httpx.BaseTransport):
    """Runs each request through the ASGI app on an event loop in a helper thread."""

    def __init__(self, app: WixHttpApp, client: tuple[str, int]) -> None:
        self._asgi = httpx.ASGITransport(app=app, client=client)
        self._stack = contextlib.ExitStack()
        self._portal: anyio.from_thread.BlockingPortal | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._portal is None:
            self._portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal())
        content = request.read()
        # The body is read whole, so it is passed on with a Content-Length, as a server would.
        headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"transfer-encoding"]

        async def call() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            inner = httpx.Request(request.method, request.url, headers=headers, content=content)
            reply = await self._asgi.handle_async_request(inner)
            body = await reply.aread()
            return reply.status_code, reply.headers.raw, body

        status, headers, body = self._portal.call(call)
        return httpx.Response(status, headers=headers, content=body, request=request)

    def close(self) -> None:
        self._stack.close()
        self._portal = None


class TestClient(httpx.Client):
    """An ``httpx.Client`` bound to a site (a directory, a ``.py`` file or a module).

    Settings are those of :func:`wixhttp.create_app`; ``debug`` defaults to on so a failing
    handler's traceback is in the 500 response you assert on. ``request.ip`` is ``client[0]``.

    The site's ``.env`` (beside its entry file) is loaded as ``wixhttp dev``/``serve`` load it:
    into ``os.environ``, before the site is imported, for the client's lifetime; a variable
    already in the environment wins over the file, an explicit argument wins over both.
    :meth:`close` removes the variables it added (unless something changed them since).
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        site: str | os.PathLike[str] | ModuleType,
        *,
        base_url: str = "http://testserver",
        client: tuple[str, int] = ("127.0.0.1", 50000),
        max_body_size: int | None = None,
        timeout: float | None = None,
        debug: bool | None = True,
        trusted_proxies: Iterable[str] | str | None = None,
        cors: CORS | str | Iterable[str] | None = None,
        json_default: JSONDefault | None = None,
        **kwargs: Any,
    ) -> None:
        self._env = None if isinstance(site, ModuleType) else _apply_env(site)
        try:
            self.app: WixHttpApp = create_app(
                site,
                max_body_size=max_body_size,
                timeout=timeout,
                debug=debug,
                trusted_proxies=trusted_proxies,
                cors=cors,
                json_default=json_default,
            )
        except BaseException:
            self._restore_env()
            raise
        super().__init__(transport=_AppTransport(self.app, client), base_url=base_url, **kwargs)

    def close(self) -> None:
        super().close()
        self._release()

    def __exit__(self, *exc_info: Any) -> None:
        # httpx's __exit__ closes the transport without calling close().
        super().__exit__(*exc_info)
        self._release()

    def _release(self) -> None:
        self.app.close()
        self._restore_env()

    def _restore_env(self) -> None:
        env, self._env = self._env, None
        for key, value in env.applied.items() if env else ():
            if os.environ.get(key) == value:
                del os.environ[key]


def _apply_env(site: str | os.PathLike[str]) -> EnvFile | None:
    """Apply the site's ``.env`` to ``os.environ`` (a missing site is create_app's error)."""
    try:
        entry = resolve_site(site)
    except SiteLoadError:
        return None
    env = EnvFile(entry.parent / ".env")
    env.apply()
    return env
