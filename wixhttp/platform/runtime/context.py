"""``context.req``, ``context.res``, ``context.log`` and ``context.error``, as the open-runtimes
Python runtime defines them.

- ``req.body_binary`` is the body as bytes; ``body_text``/``body_raw`` decode it as UTF-8;
  ``body_json`` parses it (raising on a body that is not JSON); ``body`` is the parsed JSON for
  an ``application/json`` request (``{}`` when empty), otherwise the text.
- ``res.*`` return the output dict ``{"body", "statusCode", "headers"}`` that ``main`` returns;
  ``res.json`` writes compact JSON with ``content-type: application/json``; ``res.empty()`` is
  a 204, ``res.redirect(url)`` a 301 with ``location``.
- ``log``/``error`` join their arguments with spaces (lists, tuples and dicts as compact JSON),
  cut a line at 8000 characters and end it with a newline. They write to ``sys.stdout`` and
  ``sys.stderr``, which the worker's capture routes into the execution's logs and errors.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["LOG_LIMIT", "Context", "Output", "Request", "Response", "format_log"]

#: Characters one ``context.log``/``context.error`` line keeps, as the runtime does.
LOG_LIMIT = 8000
Output = dict[str, Any]


def format_log(messages: tuple[Any, ...]) -> str:
    """One log line: the arguments joined by spaces, containers as compact JSON."""
    parts = [
        json.dumps(m, separators=(",", ":"), default=str)
        if isinstance(m, (list, dict, tuple))
        else str(m)
        for m in messages
    ]
    line = " ".join(parts)
    if len(line) > LOG_LIMIT:
        line = line[:LOG_LIMIT] + f"... Log truncated due to size limit ({LOG_LIMIT} characters)"
    return line


class Request:
    """The request ``main`` answers (``context.req``)."""

    def __init__(
        self,
        *,
        method: str,
        scheme: str,
        host: str,
        port: int,
        path: str,
        query_string: str,
        headers: dict[str, str],
        body: bytes,
    ) -> None:
        self.method = method
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.query_string = query_string
        self.query = _parse_query(query_string)
        self.headers = headers
        self.body_binary = body
        default_port = 443 if scheme == "https" else 80
        url = f"{scheme}://{host}" + (f":{port}" if port != default_port else "") + path
        self.url = url + (f"?{query_string}" if query_string else "")

    @property
    def body_text(self) -> str:
        return self.body_binary.decode("utf-8")

    @property
    def body_raw(self) -> str:
        return self.body_text

    @property
    def body_json(self) -> Any:
        return json.loads(self.body_text)

    @property
    def body(self) -> Any:
        """The JSON body for an ``application/json`` request (``{}`` if empty), else the text."""
        content_type = self.headers.get("content-type", "text/plain").lower()
        if content_type.startswith("application/json"):
            return self.body_json if self.body_binary else {}
        return self.body_text


def _parse_query(query_string: str) -> dict[str, str]:
    """``a=1&b`` -> ``{"a": "1", "b": ""}``: split as the runtime does (the last value wins)."""
    query: dict[str, str] = {}
    for pair in query_string.split("&"):
        name, _, value = pair.partition("=")
        if name:
            query[name] = value
    return query


class Response:
    """The answers ``main`` can return (``context.res``)."""

    def send(
        self, body: Any, statusCode: int = 200, headers: Mapping[str, str] | None = None  # noqa: N803
    ) -> Output:
        return {"body": body, "statusCode": statusCode, "headers": dict(headers or {})}

    def binary(
        self, bytes: bytes, statusCode: int = 200, headers: Mapping[str, str] | None = None  # noqa: A002, N803
    ) -> Output:
        return self.send(bytes, statusCode, headers)

    def text(
        self, body: str, statusCode: int = 200, headers: Mapping[str, str] | None = None  # noqa: N803
    ) -> Output:
        return self.send(body.encode("utf-8"), statusCode, headers)

    def json(
        self, obj: Any, statusCode: int = 200, headers: Mapping[str, str] | None = None  # noqa: N803
    ) -> Output:
        merged = {**(headers or {}), "content-type": "application/json"}
        return self.text(json.dumps(obj, separators=(",", ":")), statusCode, merged)

    def empty(self) -> Output:
        return self.text("", 204)

    def redirect(
        self, url: str, statusCode: int = 301, headers: Mapping[str, str] | None = None  # noqa: N803
    ) -> Output:
        return self.text("", statusCode, {**(headers or {}), "location": url})


class Context:
    """What ``main(context)`` receives."""

    def __init__(self, req: Request) -> None:
        self.req = req
        self.res = Response()

    def log(self, *messages: Any) -> None:
        """A line into the execution's logs."""
        sys.stdout.write(format_log(messages) + "\n")

    def error(self, *messages: Any) -> None:
        """A line into the execution's errors."""
        sys.stderr.write(format_log(messages) + "\n")
