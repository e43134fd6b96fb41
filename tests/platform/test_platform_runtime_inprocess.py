"""The Appwrite runtime adapter in process (``RuntimeApp`` over ``httpx.ASGITransport``): the
edges of the contract that need no platform: body parsing, query splitting, timeouts, output
that is not a response, HEAD and the body limit."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from wixhttp.platform.runtime import Context, RuntimeApp
from wixhttp.platform.runtime.context import format_log


def _client(main: Callable[[Any], Any], **options: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=RuntimeApp(main, **options))
    return httpx.AsyncClient(transport=transport, base_url="http://fn.example")


def _echo(context: Context) -> Any:
    req = context.req
    return context.res.json(
        {"body": req.body, "query": req.query, "qs": req.query_string, "url": req.url}
    )


async def test_the_body_is_parsed_by_content_type_and_the_query_split_as_the_runtime_does() -> None:
    async with _client(_echo) as client:
        as_json = await client.post("/p?a=1&a=2&b=x%20y&c&=skip", json={"k": [1]})
        as_text = await client.post("/p", content=b'{"k": 1}', headers={"content-type": "text/x"})
        empty = await client.post("/p", headers={"content-type": "application/json"})
    assert as_json.json()["body"] == {"k": [1]}
    assert as_json.json()["query"] == {"a": "2", "b": "x y", "c": ""}
    assert as_json.json()["url"] == "http://fn.example/p?a=1&a=2&b=x y&c&=skip"
    assert as_text.json()["body"] == '{"k": 1}'
    assert empty.json()["body"] == {}


async def test_output_that_is_not_a_response_is_a_500() -> None:
    async with _client(lambda context: "just a string") as client:
        answer = await client.get("/")
    assert answer.status_code == 500 and answer.content == b""


async def test_a_main_past_the_timeout_answers_500() -> None:
    async def slow(context: Context) -> Any:
        await asyncio.sleep(5)
        return context.res.empty()

    async with _client(slow, timeout=0.05) as client:
        answer = await client.get("/")
    assert answer.status_code == 500


async def test_head_has_no_body_and_a_body_over_the_limit_is_413() -> None:
    async with _client(lambda context: context.res.text("hello"), max_body_size=4) as client:
        head = await client.head("/")
        too_big = await client.post("/", content=b"12345")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == "5"
    assert too_big.status_code == 413


async def test_a_sync_main_runs_off_the_event_loop() -> None:
    started, released = threading.Event(), threading.Event()

    def blocking(context: Context) -> Any:
        started.set()
        # Released by a coroutine: only possible if the loop turns while this blocks.
        return context.res.text("released" if released.wait(10) else "blocked the loop")

    async def release() -> None:
        while not started.is_set():
            await asyncio.sleep(0.01)
        released.set()

    async with _client(blocking) as client:
        answer, _ = await asyncio.gather(client.get("/"), release())
    assert answer.text == "released"


@pytest.mark.parametrize(
    ("messages", "line"),
    [
        (("a", 1, None), "a 1 None"),
        (({"k": "v"}, [1, 2], (3,)), '{"k":"v"} [1,2] [3]'),
        (("x" * 9000,), "x" * 8000 + "... Log truncated due to size limit (8000 characters)"),
    ],
)
def test_log_lines_join_arguments_and_write_containers_as_json(
    messages: tuple[Any, ...], line: str
) -> None:
    assert format_log(messages) == line
