"""Requests into functions and what they answer: the one rule of which headers reach a
function, the execution records they make, and the worker's reply taken apart.

A request into a function, whether a direct call through ``/functions/{id}/_functions...`` or an
execution, carries the caller's headers less those only the platform sets, then the headers
Appwrite injects (``x-appwrite-execution-id``, ``x-appwrite-trigger``, ``x-appwrite-client-ip``,
...), then ``X-Forwarded-*`` and ``Host`` (see :func:`forward_headers`). Pure: no I/O.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote, unquote

from wixhttp.platform.capture import DURATION_HEADER, ERRORS_HEADER, LOGS_HEADER, LOGS_REF_HEADER

__all__ = [
    "FRAMING",
    "HOP_BY_HOP",
    "INJECTED_HEADERS",
    "REQUEST_HEADERS_KEPT",
    "RESPONSE_HEADERS_KEPT",
    "Call",
    "Job",
    "Outcome",
    "finished",
    "forward_headers",
    "header_bytes",
    "http_execution",
    "injected_headers",
    "kept_headers",
    "new_execution",
    "parse_response",
    "request_target",
]

Row = dict[str, Any]
Headers = list[tuple[bytes, bytes]]

#: Request headers an execution record keeps (Appwrite's allow-list).
REQUEST_HEADERS_KEPT = frozenset(
    {"content-type", "agent", "content-length", "host", "x-appwrite-client-ip"}
)
#: Response headers a stored execution keeps (the reply to a synchronous create has them all).
RESPONSE_HEADERS_KEPT = frozenset({"content-type", "content-length"})
#: Headers the platform sets on every request into a function; a caller's copies are dropped.
INJECTED_HEADERS = (
    "x-appwrite-execution-id",
    "x-appwrite-trigger",
    "x-appwrite-user-id",
    "x-appwrite-user-jwt",
    "x-appwrite-country-code",
    "x-appwrite-continent-code",
    "x-appwrite-continent-eu",
    "x-appwrite-client-ip",
)
INJECTED_HEADER_BYTES = frozenset(name.encode() for name in INJECTED_HEADERS)
#: Hop-by-hop headers (RFC 2616, 13.5.1): they concern one connection, never forwarded.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
#: Not forwarded either: the worker client frames the request itself.
FRAMING = frozenset({b"content-length", b"expect"})
#: Names only the platform sets: the worker believes ``X-Forwarded-*``, ``x-wixhttp-*`` are the
#: platform's control headers and ``x-appwrite-*`` the ones it injects.
_PLATFORM_PREFIXES = (b"x-forwarded-", b"x-wixhttp-", b"x-appwrite-")


@dataclass
class Call:
    """What an execution asks the function: the caller's request, as validated."""

    method: str = "POST"
    path: str = "/"  # path and query, as given
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""
    client_ip: str = ""
    host: str = ""
    scheme: str = "http"


@dataclass(eq=False)
class Job:
    """An execution's request as it reaches the function (synchronous, or claimed from the
    queue: asynchronous, scheduled or cron)."""

    id: str
    function_id: str
    method: str
    target: bytes
    headers: Headers
    body: bytes
    started: bool = False  # sent to the worker: the handler may have run
    status: str = "waiting"  # what it was before it was claimed (given back if never started)

    def load(self, headers: Iterable[Sequence[str]], body: str) -> None:
        """Take the request as stored (text pairs and text), encoded for the wire."""
        self.headers = [(k.encode("latin-1"), header_bytes(v)) for k, v in headers]
        self.body = body.encode("utf-8")

    def pending(self) -> Row:
        """The request as stored until it runs (the inverse of :meth:`load`)."""
        return {
            "pending_headers": [[k, v] for k, v in _decode_pairs(self.headers)],
            "pending_body": self.body.decode("utf-8"),
        }


@dataclass
class Outcome:
    """What the worker answered (``x-wixhttp-*`` headers taken out), or why it could not."""

    status: int
    headers: Headers
    body: bytes
    logs: str = ""
    errors: str = ""
    duration: float = 0.0


class Reply(Protocol):
    """A worker's HTTP response (:class:`wixhttp.platform.worker_client.ProxyResponse`)."""

    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> Headers: ...
    @property
    def body(self) -> bytes: ...


def request_target(path: str) -> bytes:
    """The HTTP request target for an execution's ``path`` (fragment dropped, unsafe
    characters percent-encoded, a leading ``/`` added if missing)."""
    path = path.split("#", 1)[0]
    if not path.startswith("/"):
        path = "/" + path
    return quote(path, safe="/?&=%:@!$'()*+,;~[]").encode("ascii")


def injected_headers(execution_id: str, trigger: str, client_ip: str) -> list[tuple[str, str]]:
    """The headers Appwrite adds to a function's request. There are no users or sessions
    here, so the user id and JWT are empty; there is no GeoIP database, so neither are the
    country and continent known. The dynamic ``x-appwrite-key`` is added when the request is
    sent (:mod:`wixhttp.platform.dynamic_keys`), never stored with a pending execution."""
    return [
        ("x-appwrite-execution-id", execution_id),
        ("x-appwrite-trigger", trigger),
        ("x-appwrite-user-id", ""),
        ("x-appwrite-user-jwt", ""),
        ("x-appwrite-country-code", ""),
        ("x-appwrite-continent-code", ""),
        ("x-appwrite-continent-eu", "false"),
        ("x-appwrite-client-ip", client_ip),
    ]


def forward_headers(
    headers: Iterable[tuple[bytes, bytes]],
    *,
    function_id: str,
    execution_id: str,
    trigger: str,
    client_ip: str,
    scheme: str,
    default_host: bytes | None = None,
    key_in_authorization: bool = False,
) -> Headers:
    """The headers of a request into a function, from the caller's ``headers``.

    Dropped: ``X-Forwarded-*``, ``x-wixhttp-*`` and ``x-appwrite-*`` (only the platform sets
    them; this also keeps the caller's ``x-appwrite-key`` from the function's code), hop-by-hop
    and framing headers, and ``Authorization`` if ``key_in_authorization`` (it carried the
    caller's API key). Then come the injected ``x-appwrite-*`` headers,
    ``X-Forwarded-For`` (if ``client_ip``), ``-Proto`` and ``-Prefix``, and last ``Host``: the
    caller's, else ``default_host`` (else none: the worker client says ``worker``).
    Names are lower-cased; values are sent as given.
    """
    host: bytes | None = None
    sent: Headers = []
    for name, value in headers:
        lower = name.lower()
        if lower == b"host":
            host = value
        elif not (
            lower.startswith(_PLATFORM_PREFIXES)
            or lower in HOP_BY_HOP
            or lower in FRAMING
            or (key_in_authorization and lower == b"authorization")
        ):
            sent.append((lower, value))
    sent.extend(
        (k.encode("latin-1"), v.encode("latin-1"))
        for k, v in injected_headers(execution_id, trigger, client_ip)
    )
    if client_ip:
        sent.append((b"x-forwarded-for", client_ip.encode("latin-1")))
    sent.append((b"x-forwarded-proto", scheme.encode("latin-1")))
    sent.append((b"x-forwarded-prefix", f"/functions/{function_id}".encode("latin-1")))
    if not host and default_host is not None:
        host = default_host
    if host is not None:
        sent.append((b"host", host))
    return sent


def kept_headers(pairs: Iterable[tuple[str, str]], allowed: frozenset[str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in pairs if name.lower() in allowed]


def header_bytes(value: str) -> bytes:
    """A header value on the wire: Latin-1, the bytes the function's server (the core app, as
    Node and Starlette do) decodes back to the very same string. The execution API refuses
    values beyond Latin-1; a request kept by an older version may still hold one: UTF-8."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def _decode_pairs(headers: Headers) -> list[tuple[str, str]]:
    """Header bytes as text, the way the function's server reads them (Latin-1)."""
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]


def new_execution(
    call: Call,
    *,
    execution_id: str,
    project_id: str,
    function_id: str,
    deployment_id: str,
    created_at: str,
    trigger: str,
    status: str,
    scheduled_at: str | None = None,
    pending: bool = False,
    run_after: float | None = None,
) -> tuple[Row, Job]:
    """A new execution of ``call``: its row (with the request kept for later if ``pending``,
    claimable once the database's clock reaches ``run_after``) and its job, with the request
    as it reaches the function."""
    job = Job(execution_id, function_id, call.method, request_target(call.path), [], b"")
    job.headers = forward_headers(
        [(k.encode("latin-1"), header_bytes(v)) for k, v in call.headers.items()],
        function_id=function_id,
        execution_id=execution_id,
        trigger=trigger,
        client_ip=call.client_ip,
        scheme=call.scheme,
        default_host=(call.host or "localhost").encode("utf-8"),
    )
    job.body = call.body.encode("utf-8")
    injected = injected_headers(execution_id, trigger, call.client_ip)
    row: Row = {
        "id": execution_id,
        "project_id": project_id,
        "function_id": function_id,
        "deployment_id": deployment_id,
        "created_at": created_at,
        "updated_at": created_at,
        "trigger": trigger,
        "status": status,
        "request_method": call.method,
        "request_path": call.path,
        "request_headers": kept_headers([*call.headers.items(), *injected], REQUEST_HEADERS_KEPT),
        "response_status_code": 0,
        "response_headers": [],
        "logs": "",
        "errors": "",
        "duration": 0.0,
        "scheduled_at": scheduled_at,
        "run_after": run_after,
        **(job.pending() if pending else {"pending_headers": None, "pending_body": None}),
    }
    return row, job


def http_execution(
    execution_id: str,
    project_id: str,
    function_id: str,
    deployment_id: str,
    created_at: str,
    method: str,
    target: bytes,
    headers: Headers,
    client_ip: str,
) -> Row:
    """The record of a direct call through ``/functions/{id}/_functions...`` (trigger
    ``http``), less its outcome; ``headers`` are the caller's."""
    caller_headers = [(k, v) for k, v in headers if k not in INJECTED_HEADER_BYTES]
    kept = kept_headers(
        [*_decode_pairs(caller_headers), ("x-appwrite-client-ip", client_ip)], REQUEST_HEADERS_KEPT
    )
    return {
        "id": execution_id,
        "project_id": project_id,
        "function_id": function_id,
        "deployment_id": deployment_id,
        "created_at": created_at,
        "trigger": "http",
        "request_method": method,
        "request_path": target.decode("latin-1"),
        "request_headers": kept,
        "scheduled_at": None,
    }


def finished(outcome: Outcome, updated_at: str) -> Row:
    """An execution's values once ``outcome`` is known."""
    return {
        "status": "failed" if outcome.status >= 500 else "completed",
        "response_status_code": outcome.status,
        "response_headers": kept_headers(_decode_pairs(outcome.headers), RESPONSE_HEADERS_KEPT),
        "logs": outcome.logs,
        "errors": outcome.errors,
        "duration": round(outcome.duration, 6),
        "updated_at": updated_at,
        "pending_headers": None,
        "pending_body": None,
    }


def parse_response(result: Reply, started: float) -> tuple[Outcome, str | None]:
    """Split a worker's response into the handler's response and the captured logs (or the
    reference to fetch them with)."""
    headers: Headers = []
    logs = errors = ""
    ref: str | None = None
    duration: float | None = None
    for name, value in result.headers:
        if not name.startswith(b"x-wixhttp-"):
            headers.append((name, value))
        elif name == LOGS_HEADER:
            logs = unquote(value.decode("latin-1"))
        elif name == ERRORS_HEADER:
            errors = unquote(value.decode("latin-1"))
        elif name == LOGS_REF_HEADER:
            ref = unquote(value.decode("latin-1"))
        elif name == DURATION_HEADER:
            with contextlib.suppress(ValueError):
                duration = float(value)
    if duration is None:
        duration = time.perf_counter() - started
    return Outcome(result.status, headers, result.body, logs, errors, duration), ref
