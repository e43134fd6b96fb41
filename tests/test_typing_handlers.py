"""A user's typed handlers pass ``mypy --strict`` (run as a subprocess on files of their own, as
a user runs it), and a misuse of the body's flavour is reported."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SYNC_HANDLERS = '''
    """Plain def handlers: the body methods return the value."""

    from wixhttp import (
        Request,
        WixHttpFunctionRequest,
        WixHttpFunctionResponse,
        bad_request,
        forbidden,
        ok,
    )


    def get_greet(request: Request) -> WixHttpFunctionResponse:
        name = request.query["name"]
        if not name:
            return bad_request({"body": {"error": "name is required"}})
        return ok({"body": {"greeting": "Hello " + name, "upper": name.upper()}})


    def get_tags(request: Request) -> WixHttpFunctionResponse:
        tags: list[str] = request.query.get_all("tag")
        token = request.headers["Authorization"]
        if not token:
            return forbidden()
        return ok(body={"tags": tags, "path": request.path, "ip": request.ip})


    def post_items(request: Request) -> WixHttpFunctionResponse:
        text: str = request.body.text()
        raw: bytes = request.body.buffer()
        body = request.body.json()
        email = body["email"]
        return ok(body={"email": email, "size": len(raw), "chars": len(text)})


    def call_with_the_runtime_class(request: WixHttpFunctionRequest) -> None:
        get_greet(request)  # the runtime class satisfies the Request protocol
'''

ASYNC_HANDLERS = '''
    """async def handlers: the body methods are awaited, as in Velo."""

    from wixhttp import AsyncRequest, WixHttpFunctionRequest, WixHttpFunctionResponse, ok, response


    async def post_items(request: AsyncRequest) -> WixHttpFunctionResponse:
        text: str = await request.body.text()
        raw: bytes = await request.body.buffer()
        body = await request.body.json()
        items = body["items"] or []
        return ok(body={"count": len(items), "size": len(raw), "chars": len(text)})


    async def get_echo(request: AsyncRequest) -> WixHttpFunctionResponse:
        return response(
            status=200,
            body={"url": request.url, "base": request.baseUrl, "name": request.functionName},
        )


    async def call_with_the_runtime_class(request: WixHttpFunctionRequest) -> None:
        await post_items(request)  # the runtime class satisfies the AsyncRequest protocol
'''

MISUSED = """
    from wixhttp import AsyncRequest, Request, WixHttpFunctionResponse, ok


    def post_sync(request: Request) -> WixHttpFunctionResponse:
        size: bytes = request.body.text()  # ERROR: a str is not bytes
        return ok(body={"size": len(size)})


    async def post_async(request: AsyncRequest) -> WixHttpFunctionResponse:
        text: str = request.body.text()  # ERROR: the await is missing
        return ok(body=text)
"""


def _mypy(folder: Path, *names: str) -> subprocess.CompletedProcess[str]:
    # Run from the user's folder, so the project's own mypy settings do not apply.
    command = [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", *names]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """One mypy run over the three files (a cold run costs seconds; the cache is shared)."""
    folder = tmp_path_factory.mktemp("typed_site")
    for name, text in [
        ("sync_handlers.py", SYNC_HANDLERS),
        ("async_handlers.py", ASYNC_HANDLERS),
        ("misused.py", MISUSED),
    ]:
        (folder / name).write_text(textwrap.dedent(text).lstrip())
    return _mypy(folder, "sync_handlers.py", "async_handlers.py", "misused.py")


def test_typed_sync_and_async_handlers_pass_mypy_strict(
    checked: subprocess.CompletedProcess[str],
) -> None:
    lines = checked.stdout.splitlines()
    assert not [line for line in lines if not line.startswith("misused.py:")], checked.stdout
    assert checked.stderr == ""


def test_mypy_reports_a_body_read_with_the_wrong_flavour(
    checked: subprocess.CompletedProcess[str],
) -> None:
    errors = [line for line in checked.stdout.splitlines() if ": error:" in line]
    lines = textwrap.dedent(MISUSED).lstrip().splitlines()
    expected = [str(number) for number, line in enumerate(lines, 1) if "# ERROR" in line]
    assert [line.split(":")[1] for line in errors] == expected, checked.stdout
    assert '"str"' in errors[0] and "bytes" in errors[0]
    assert "Awaitable[str]" in errors[1]
