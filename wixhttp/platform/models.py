"""The JSON shapes the Appwrite SDK 27 parses (spec §5), built from store rows.

Rules (spec §8): no nulls (``""``, ``[]`` or ``0`` instead), enum fields always valid,
``$``-prefixed system keys, numbers as numbers.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "DEFAULT_SPECIFICATION",
    "RUNTIMES",
    "activation_json",
    "deployment_json",
    "execution_json",
    "function_json",
    "runtime_json",
    "variable_json",
]

Row = Mapping[str, Any]
DEFAULT_SPECIFICATION = "s-1vcpu-512mb"
RUNTIME_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
#: The runtimes this host can run: the interpreter the platform itself runs on.
RUNTIMES = (f"python-{RUNTIME_VERSION}",)

#: Function fields kept in the ``extra`` JSON column, with their defaults.
FUNCTION_EXTRAS: dict[str, Any] = {
    "description": "",
    "installationId": "",
    "providerRepositoryId": "",
    "providerBranch": "",
    "providerSilentMode": False,
    "providerRootDirectory": "",
    "providerBranches": [],
    "providerPaths": [],
    "buildSpecification": DEFAULT_SPECIFICATION,
    "runtimeSpecification": DEFAULT_SPECIFICATION,
    "deploymentRetention": 0,
}


def variable_json(row: Row) -> dict[str, Any]:
    """A variable; a secret one never shows its value."""
    return {
        "$id": row["id"],
        "$createdAt": row["created_at"],
        "$updatedAt": row["updated_at"],
        "key": row["key"],
        "value": "" if row["secret"] else row["value"],
        "secret": bool(row["secret"]),
        "description": row["description"],
        "resourceType": "function",
        "resourceId": row["function_id"],
    }


def function_json(row: Row, variables: Iterable[Row] = ()) -> dict[str, Any]:
    extra = {**FUNCTION_EXTRAS, **(row.get("extra") or {})}
    return {
        "$id": row["id"],
        "$createdAt": row["created_at"],
        "$updatedAt": row["updated_at"],
        "execute": list(row["execute"]),
        "name": row["name"],
        "enabled": bool(row["enabled"]),
        "live": bool(row["live"]),
        "logging": bool(row["logging"]),
        "runtime": row["runtime"],
        "deploymentId": row["deployment_id"],
        "deploymentCreatedAt": row["deployment_created_at"],
        "latestDeploymentId": row["latest_deployment_id"],
        "latestDeploymentCreatedAt": row["latest_deployment_created_at"],
        "latestDeploymentStatus": row["latest_deployment_status"],
        "scopes": list(row["scopes"]),
        "vars": [variable_json(v) for v in variables],
        "events": list(row["events"]),
        "schedule": row["schedule"],
        "timeout": int(row["timeout"]),
        "entrypoint": row["entrypoint"],
        "commands": row["commands"],
        "version": "v5",
        "emailEnabled": False,
        **extra,
    }


def deployment_json(row: Row) -> dict[str, Any]:
    return {
        "$id": row["id"],
        "$createdAt": row["created_at"],
        "$updatedAt": row["updated_at"],
        "type": row["type"],
        "resourceId": row["function_id"],
        "resourceType": "functions",
        "entrypoint": row["entrypoint"],
        "sourceSize": int(row["source_size"]),
        "buildSize": int(row["build_size"]),
        "totalSize": int(row["total_size"]),
        "buildId": row["id"],
        "activate": bool(row["activate"]),
        "screenshotLight": "",
        "screenshotDark": "",
        "status": row["status"],
        "buildLogs": row["build_logs"],
        "buildDuration": int(row["build_duration"]),
        "providerRepositoryName": "",
        "providerRepositoryOwner": "",
        "providerRepositoryUrl": "",
        "providerCommitHash": "",
        "providerCommitAuthorUrl": "",
        "providerCommitAuthor": "",
        "providerCommitMessage": "",
        "providerCommitUrl": "",
        "providerBranch": "",
        "providerBranchUrl": "",
        "chunksTotal": int(row["chunks_total"]),
        "chunksUploaded": int(row["chunks_uploaded"]),
    }


def execution_json(
    row: Row,
    *,
    response_body: str = "",
    response_headers: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """An execution. Stored executions never carry a response body: only the reply to a
    synchronous create passes ``response_body`` (and the full ``response_headers``)."""
    return {
        "$id": row["id"],
        "$createdAt": row["created_at"],
        "$updatedAt": row["updated_at"],
        "$permissions": [],
        "functionId": row["function_id"],  # format < 2.0; harmless for SDK 27
        "resourceId": row["function_id"],
        "resourceType": "functions",
        "deploymentId": row["deployment_id"],
        "trigger": row["trigger"],
        "status": row["status"],
        "requestMethod": row["request_method"],
        "requestPath": row["request_path"],
        "requestHeaders": list(row["request_headers"]),
        "responseStatusCode": int(row["response_status_code"]),
        "responseBody": response_body,
        "responseHeaders": (
            response_headers if response_headers is not None else list(row["response_headers"])
        ),
        "logs": row["logs"],
        "errors": row["errors"],
        "duration": float(row["duration"]),
        "scheduledAt": row["scheduled_at"],
    }


def runtime_json(runtime_id: str) -> dict[str, Any]:
    key, _, version = runtime_id.rpartition("-")
    return {
        "$id": runtime_id,
        "key": key,
        "name": "Python",
        "version": version,
        "base": f"python:{version}",
        "image": f"local/{runtime_id}",
        "logo": "python.png",
        "supports": ["amd64", "arm64"],
    }


def activation_json(row: Row) -> dict[str, Any]:
    """A Wix ``FunctionActivation``; ``revision`` is an int64 written as a string (Wix style)."""
    return {
        "id": row["id"],
        "functionId": row["function_id"],
        "revision": str(row["revision"]),
        "status": row["status"],
        "deploymentId": row["deployment_id"],
        "createdDate": row["created_at"],
        "updatedDate": row["updated_at"],
    }
