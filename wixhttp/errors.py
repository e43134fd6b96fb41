"""Error responses the framework itself sends: short JSON for programs, a page for browsers."""

from __future__ import annotations

import html
import json

from starlette.types import Scope

__all__ = ["HandlerError", "accept_header", "error_response", "wants_html"]


class HandlerError(Exception):
    """A handler misbehaved (e.g. returned ``None``); the message says what to do instead."""


def accept_header(scope: Scope) -> str:
    """The request's Accept header ('' without one)."""
    for key, value in scope["headers"]:
        if key == b"accept":
            return str(value.decode("latin-1"))
    return ""


def wants_html(accept: str) -> bool:
    """Whether a caller sending this Accept header is a browser wanting a page."""
    return "text/html" in accept


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    accept: str = "",
    details: str | None = None,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """``(status, headers, body)`` for an error. ``details`` (a traceback) only in debug mode."""
    if wants_html(accept):
        parts = [
            "<!doctype html><html><head><meta charset='utf-8'>",
            f"<title>{status} {html.escape(code)}</title>",
            "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}"
            "pre{background:#f6f6f6;padding:1rem;overflow:auto}h1{color:#b00020}</style>",
            f"</head><body><h1>{status} {html.escape(code)}</h1>",
            f"<p>{html.escape(message)}</p>",
        ]
        if details:
            parts.append(f"<pre>{html.escape(details)}</pre>")
        parts.append("</body></html>")
        body = "".join(parts).encode("utf-8")
        content_type = b"text/html; charset=utf-8"
    else:
        payload: dict[str, str] = {"error": code, "message": message}
        if details:
            payload["details"] = details
        body = json.dumps(payload).encode("utf-8")
        content_type = b"application/json"
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if extra_headers:
        headers.extend(extra_headers)
    return status, headers, body
