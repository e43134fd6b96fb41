"""Schemathesis against the platform's API: cases generated from Appwrite's own OpenAPI document
of ``/functions*`` (1.9.3, copied into ``data/``), sent with a valid key to a real platform
process. Whatever they hold, no answer is a 5xx except the documented ones (501 for template
and VCS deployments). Path ``functionId`` points at a real deployed function (except to delete
it), so the cases reach its deployments, executions and variables, not only 404s."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from appwrite.services.functions import Functions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Err

from tests.platform._support import PROJECT, PlatformProcess, new_function

SPEC = Path(__file__).parent / "data" / "appwrite-openapi-functions-1.9.3.json"
#: 5xx the README documents, by (method, path template).
DOCUMENTED = {
    ("POST", "/functions/{functionId}/deployments/template"): {501},
    ("POST", "/functions/{functionId}/deployments/vcs"): {501},
}

#: Cases per operation, valid (positive) and invalid (negative) alike; 26 operations.
FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)
#: Every operation of the document (``Any``: schemathesis' generics add nothing here).
OPERATIONS: list[Any] = [
    result.ok()
    for result in schemathesis.openapi.from_path(SPEC).get_all_operations()
    if not isinstance(result, Err)
]
assert len(OPERATIONS) == 26, "the document's operations were not all read"


@pytest.fixture(scope="module")
def function_id(functions: Functions) -> str:
    return new_function(functions, timeout=3)


# schemathesis' own pytest plugin (schema.parametrize) does not run on pytest 9; plain
# parametrize over the operations and hypothesis' given do the same.
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_no_api_call_ends_in_an_undocumented_server_error(
    operation: Any, platform: PlatformProcess, key: str, function_id: str
) -> None:
    headers = {"X-Appwrite-Project": PROJECT, "X-Appwrite-Key": key}
    allowed = DOCUMENTED.get((operation.method.upper(), operation.path), set())
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @FUZZ
    @given(case=cases)
    def check(case: Any) -> None:
        if "functionId" in (case.path_parameters or {}) and case.method.upper() != "DELETE":
            case.path_parameters = {**(case.path_parameters or {}), "functionId": function_id}
        response = case.call(base_url=platform.endpoint, headers=headers, timeout=15)
        assert response.status_code < 500 or response.status_code in allowed, (
            case.method,
            case.formatted_path,
            case.query,
            case.headers,
            case.body if not isinstance(case.body, bytes) else case.body[:200],
            response.status_code,
            response.text[:500],
        )

    check()
