"""The Appwrite error shape: ``{message, code, type, version}`` with an HTTP status."""

from __future__ import annotations

from typing import Any

__all__ = ["ALLOWED_STATUSES", "AppwriteError", "VERSION"]

#: The server version reported in error bodies (the Appwrite release whose API we follow).
VERSION = "1.9.6"

#: Appwrite rewrites any other status to 500 "Server Error".
ALLOWED_STATUSES = frozenset(
    {400, 401, 402, 403, 404, 405, 408, 409, 410, 412, 416, 422, 429, 451, 501, 503}
)


class AppwriteError(Exception):
    """An error the API answers with: ``raise AppwriteError(404, "function_not_found", "...")``."""

    def __init__(
        self,
        status: int,
        type: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        if status not in ALLOWED_STATUSES:
            status, type, message = 500, "general_server_error", "Server Error"
        self.status = status
        self.type = type
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "code": self.status, "type": self.type, "version": VERSION}


def argument_invalid(message: str) -> AppwriteError:
    return AppwriteError(400, "general_argument_invalid", message)


def query_invalid(message: str) -> AppwriteError:
    return AppwriteError(400, "general_query_invalid", f"Invalid query: {message}")
