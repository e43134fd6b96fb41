"""Every error the platform answers with, one named constructor per error type.

Appwrite's shape is ``{message, code, type, version}`` with an HTTP status
(:class:`AppwriteError`); the Wix activation routes use Wix's envelope (:class:`WixError`).
Code raises ``errors.function_not_found()``, never a hand-written ``AppwriteError(404, ...)``,
so a type's status and wording live here once. Mapping to HTTP responses is the API layer's job.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ALLOWED_STATUSES", "AppwriteError", "VERSION", "WixError"]

#: The server version reported in error bodies (the Appwrite release whose API we follow).
VERSION = "1.9.6"

#: Appwrite rewrites any other status to 500 "Server Error".
ALLOWED_STATUSES = frozenset(
    {400, 401, 402, 403, 404, 405, 408, 409, 410, 412, 416, 422, 429, 451, 501, 503}
)


class AppwriteError(Exception):
    """An error the API answers with; build it with one of this module's constructors."""

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


# -- general -------------------------------------------------------------------------------------


def argument_invalid(message: str) -> AppwriteError:
    return AppwriteError(400, "general_argument_invalid", message)


def query_invalid(message: str) -> AppwriteError:
    return AppwriteError(400, "general_query_invalid", f"Invalid query: {message}")


def cursor_not_found(cursor: str) -> AppwriteError:
    return AppwriteError(
        400, "general_cursor_not_found", f'Document with ID "{cursor}" could not be found.'
    )


def bad_request(message: str) -> AppwriteError:
    return AppwriteError(400, "general_bad_request", message)


def body_too_large(limit: int) -> AppwriteError:
    # 400, not 413: Appwrite answers no 413 (its error statuses are ALLOWED_STATUSES).
    return AppwriteError(
        400, "general_argument_invalid", f"The request body exceeds {limit} bytes."
    )


def database_lost(message: str) -> AppwriteError:
    return AppwriteError(503, "general_server_error", message)


def rate_limit_exceeded(headers: dict[str, str]) -> AppwriteError:
    return AppwriteError(
        429,
        "general_rate_limit_exceeded",
        "Rate limit for the current endpoint has been exceeded. Please try again after some "
        "time.",
        headers=headers,
    )


def not_implemented(message: str) -> AppwriteError:
    return AppwriteError(501, "general_not_implemented", message)


def route_not_found() -> AppwriteError:
    return AppwriteError(
        404,
        "general_route_not_found",
        "The requested route was not found. Please refer to the API docs and try again.",
    )


def method_not_allowed() -> AppwriteError:
    return AppwriteError(405, "general_route_not_found", "Method not allowed on this route.")


def http_error(status: int, detail: str) -> AppwriteError:
    return AppwriteError(status, "general_unknown", detail)


def server_error() -> AppwriteError:
    return AppwriteError(500, "general_unknown", "Server Error")


# -- projects and keys ---------------------------------------------------------------------------


def project_not_found() -> AppwriteError:
    return AppwriteError(
        404, "project_not_found", "Project with the requested ID could not be found."
    )


def unauthorized_scope(role: str, scope: str) -> AppwriteError:
    return AppwriteError(401, "general_unauthorized_scope", f'{role} missing scopes (["{scope}"])')


def user_unauthorized(message: str) -> AppwriteError:
    return AppwriteError(401, "user_unauthorized", message)


# -- functions and variables ---------------------------------------------------------------------


def function_not_found() -> AppwriteError:
    return AppwriteError(
        404, "function_not_found", "Function with the requested ID could not be found."
    )


def function_already_exists() -> AppwriteError:
    return AppwriteError(
        409, "function_already_exists", "Function with the requested ID already exists."
    )


def function_runtime_unsupported(runtime: str, available: list[str]) -> AppwriteError:
    return AppwriteError(
        404,
        "function_runtime_unsupported",
        f'Runtime "{runtime}" is not supported by this host. Available runtimes: '
        f"{', '.join(available)}",
    )


def variable_not_found() -> AppwriteError:
    return AppwriteError(
        404, "variable_not_found", "Variable with the requested ID could not be found."
    )


def variable_already_exists(message: str) -> AppwriteError:
    return AppwriteError(409, "variable_already_exists", message)


def variable_cannot_unset_secret() -> AppwriteError:
    return AppwriteError(
        400,
        "variable_cannot_unset_secret",
        "Secret variables cannot be marked as non-secret. Delete and recreate it.",
    )


# -- deployments and builds ----------------------------------------------------------------------


def deployment_not_found(
    message: str = "Deployment with the requested ID could not be found.",
) -> AppwriteError:
    return AppwriteError(404, "deployment_not_found", message)


def build_not_ready(message: str) -> AppwriteError:
    return AppwriteError(400, "build_not_ready", message)


def build_not_found(message: str) -> AppwriteError:
    return AppwriteError(404, "build_not_found", message)


def build_already_completed() -> AppwriteError:
    return AppwriteError(
        400,
        "build_already_completed",
        "Build with the requested ID is already completed and cannot be canceled.",
    )


def file_empty(message: str) -> AppwriteError:
    return AppwriteError(400, "storage_file_empty", message)


def file_type_unsupported(filename: str) -> AppwriteError:
    return AppwriteError(
        400,
        "storage_file_type_unsupported",
        f'File extension not allowed: "{filename}"; upload a .tar.gz archive.',
    )


def file_too_large(limit: int) -> AppwriteError:
    return AppwriteError(
        400,
        "deployment_invalid_file_size",
        f"The file size is either not valid or exceeds the maximum allowed size of {limit} bytes.",
    )


def content_range_invalid(message: str) -> AppwriteError:
    return AppwriteError(400, "storage_invalid_content_range", f"Invalid content range: {message}")


# -- executions ----------------------------------------------------------------------------------


def execution_not_found() -> AppwriteError:
    return AppwriteError(
        404, "execution_not_found", "Execution with the requested ID could not be found."
    )


def execution_in_progress(message: str) -> AppwriteError:
    return AppwriteError(400, "execution_in_progress", message)


def synchronous_timeout(message: str) -> AppwriteError:
    return AppwriteError(408, "function_synchronous_timeout", message)


#: The type of a gateway error, by status: the worker crashed, could not start, or timed out.
GATEWAY_TYPES = {
    502: "function_worker_crashed",
    503: "function_worker_unavailable",
    504: "function_worker_timeout",
}


def gateway_body(status: int, message: str) -> dict[str, Any]:
    """A worker failure on a function URL, answered as a gateway would (502/503/504), in
    Appwrite's shape. Not an :class:`AppwriteError`: those statuses are not Appwrite's."""
    return {"message": message, "code": status, "type": GATEWAY_TYPES[status], "version": VERSION}


# -- Wix activations -----------------------------------------------------------------------------


class WixError(Exception):
    """An error in Wix's envelope: ``{"message", "details": {"applicationError": {...}}}``,
    or ``{"message", "details": {"validationError": {"fieldViolations": [...]}}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.data = data or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        if self.code == "VALIDATION":
            violation = {"field": self.data["field"], "description": self.data["description"]}
            return {
                "message": self.message,
                "details": {"validationError": {"fieldViolations": [violation]}},
            }
        error = {"code": self.code, "description": self.message, "data": self.data}
        return {"message": self.message, "details": {"applicationError": error}}


def wix_validation_error(field: str, description: str) -> WixError:
    return WixError(
        400,
        "VALIDATION",
        f"{field}: {description}",
        data={"field": field, "description": description},
    )
