"""Function URLs: ``/functions/{id}/_functions/...`` (the active deployment) and
``.../_functions-dev/...`` (the latest ready deployment), forwarded to the function's worker.

Raw ASGI, because it is the hot path. With the function's ``logging`` on, every call is also
recorded as an execution (trigger ``http``) with its captured logs, written in a batch off the
request's path. Each call carries a dynamic key for the function (``x-appwrite-key``).
"""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from wixhttp.platform import errors
from wixhttp.platform.api.context import NO_CACHE, error_response
from wixhttp.platform.auth import GUEST, KeyCache, guest_may_execute, require_scope, secret_from
from wixhttp.platform.calls import forward_headers
from wixhttp.platform.capture import CAPTURE_HEADER
from wixhttp.platform.config import MAX_CALL_BODY
from wixhttp.platform.errors import AppwriteError
from wixhttp.platform.executions import ExecutionService
from wixhttp.platform.store import new_id, now
from wixhttp.platform.targets import Target, Targets
from wixhttp.platform.workers import (
    ProxyResponse,
    StreamedResponse,
    WorkerError,
    WorkerPool,
    WorkerSpec,
)

__all__ = ["FunctionProxy"]

log = logging.getLogger("wixhttp.platform")

class _ClientGone(Exception):
    """The caller disconnected before its request body was complete."""


class FunctionProxy:
    """One of the two function URL prefixes (``_functions`` or ``_functions-dev``)."""

    def __init__(
        self,
        prefix: str,
        project_id: str,
        keys: KeyCache,
        targets: Targets,
        workers: WorkerPool,
        executions: ExecutionService,
        max_body: int = MAX_CALL_BODY,
    ) -> None:
        self.prefix = prefix
        self.project_id = project_id
        self.keys = keys
        self.targets = targets
        self.workers = workers
        self.executions = executions
        self.max_body = max_body
        self._marker = f"/{prefix}/".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            answer = await self.handle(scope, receive)
        except AppwriteError as error:
            answer = error_response(error)
        except _ClientGone:
            return
        if isinstance(answer, Response):
            await answer(scope, receive, send)
            return
        await _stream(scope["method"], answer, send)

    async def handle(self, scope: Scope, receive: Receive) -> Response | StreamedResponse:
        function_id: str = scope["path_params"]["function_id"]
        target = await self.targets.lookup(function_id)
        if target is None:
            raise errors.function_not_found()
        function = target.function
        presented = _lookup(scope["headers"])
        if not (function["enabled"] and guest_may_execute(function["execute"])):
            await self._authorize(target, presented)
        key_in_authorization = await self._platform_credential(presented)
        spec = self._spec(target)
        body = await self._read_body(receive)
        path = self._target(scope)
        client = scope.get("client")
        client_ip = str(client[0]) if client else ""
        execution_id = new_id()
        headers = forward_headers(
            scope["headers"],
            function_id=function_id,
            execution_id=execution_id,
            trigger="http",
            client_ip=client_ip,
            scheme=str(scope.get("scheme", "http")),
            key_in_authorization=key_in_authorization,
        )
        headers.append(await self.keys.dynamic.header(self.project_id, function))
        if not function["logging"]:
            try:
                return await self.workers.forward(spec, scope["method"], path, headers, body)
            except WorkerError as exc:
                return _gateway_error(exc)
        headers.append((CAPTURE_HEADER, execution_id.encode("latin-1")))
        created_at, started = now(), time.perf_counter()
        outcome: StreamedResponse | WorkerError
        try:
            outcome = await self.workers.forward(spec, scope["method"], path, headers, body)
        except WorkerError as exc:
            outcome = exc
        # The record keeps the response's status, headers and logs (all in its head), never
        # its body (Appwrite's stored executions have none): the body streams to the caller.
        self.executions.record_http(
            spec, execution_id, created_at, scope["method"], path, scope["headers"], client_ip,
            outcome if isinstance(outcome, WorkerError) else _head_only(outcome), started,
        )
        if isinstance(outcome, WorkerError):
            return _gateway_error(outcome)
        return outcome

    async def _authorize(self, target: Target, headers: dict[str, str]) -> None:
        """Check a private (or disabled) function's caller holds a key with executions.write."""
        function = target.function
        presented = secret_from(headers, authorization="bearer")
        caller, project = (
            await self.keys.resolve(presented.secret, asyncio.get_running_loop().time())
            if presented.secret
            else (GUEST, "")
        )
        if not caller.is_key or project != self.project_id:
            if not function["enabled"]:
                raise errors.function_not_found()
            raise errors.user_unauthorized(
                "The current user is not authorized to execute this function: its execute "
                'list does not contain "any"; send an API key with executions.write in '
                "X-Appwrite-Key."
            )
        require_scope(caller, "executions.write", self.project_id)

    async def _platform_credential(self, headers: dict[str, str]) -> bool:
        """Whether ``Authorization`` carries one of the platform's own credentials (``Bearer``
        with an API key or a dynamic key, of any project): then it never reaches the function,
        whichever header the platform read the key from. A function's own scheme (``Basic``,
        its own tokens) is left alone."""
        header = headers.get("authorization", "").strip()
        if not header.lower().startswith("bearer "):
            return False
        token = header[7:].strip()
        if not token:
            return False
        if token == headers.get("x-appwrite-key", "").strip():
            return True
        caller, _project = await self.keys.resolve(token, asyncio.get_running_loop().time())
        return caller.is_key

    def _target(self, scope: Scope) -> bytes:
        """The request target the worker gets: from ``/_functions[-dev]/`` on, with the query."""
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        marker = self._marker
        target = raw_path[raw_path.index(marker) :] if marker in raw_path else marker
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        return target

    def _spec(self, target: Target) -> WorkerSpec:
        spec = target.production if self.prefix == "_functions" else target.development
        if spec is not None:
            return spec
        if self.prefix == "_functions":
            raise errors.deployment_not_found(
                "The function has no active deployment: activate a ready deployment "
                "(publish it) to serve /_functions; /_functions-dev serves the latest "
                "ready one."
            )
        raise errors.deployment_not_found("The function has no ready deployment yet.")

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone  # never forward half a body as if it were the whole
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise errors.body_too_large(self.max_body)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _lookup(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The two headers a key can come in, by lower-case name; the first of a repeated one
    counts, as Starlette's ``Headers.get`` does on the other routes."""
    found: dict[str, str] = {}
    for key, value in headers:
        name = key.lower()
        if name in (b"x-appwrite-key", b"authorization"):
            found.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return found


def _head_only(response: StreamedResponse) -> ProxyResponse:
    return ProxyResponse(response.status, response.headers, b"")


async def _stream(method: str, response: StreamedResponse, send: Send) -> None:
    """The worker's answer to the caller, its body passed on piece by piece as it comes (the
    caller's connection paces the reading): its own framing, no internal headers."""
    headers = [
        (k, v)
        for k, v in response.headers
        if k != b"content-length" and not k.startswith(b"x-wixhttp-")
    ]
    if response.length is not None or method == "HEAD":
        headers += [(k, v) for k, v in response.headers if k == b"content-length"]
    try:
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if method == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        async for piece in response.chunks():
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    finally:
        response.close()  # a no-op once the body was read whole (then it is pooled again)


def _gateway_error(exc: WorkerError) -> Response:
    """Not an SDK route: a worker failure is answered as a gateway would (502/503/504)."""
    return JSONResponse(
        errors.gateway_body(exc.status, str(exc)), status_code=exc.status, headers=NO_CACHE
    )
