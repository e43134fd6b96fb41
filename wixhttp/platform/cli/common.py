"""What the platform's commands share: options, the store opener, the API client and its errors."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar, cast

import click
import httpx

from wixhttp.platform.auth import DEFAULT_PROJECT
from wixhttp.platform.config import DatabaseConfig
from wixhttp.platform.store import DatabaseUnusable, Store

T = TypeVar("T")

DATA = click.option(
    "--data",
    "data_dir",
    default="wixhttp-data",
    show_default=True,
    envvar="WIXHTTP_PLATFORM_DATA",
    type=click.Path(file_okay=False),
    help="The platform's data directory (database and deployments; or set "
    "WIXHTTP_PLATFORM_DATA).",
)
DATABASE_URL = click.option(
    "--database-url",
    default="",
    envvar="WIXHTTP_DATABASE_URL",
    help=(
        "The database, an SQLAlchemy async URL: postgresql+asyncpg://USER:PASSWORD@HOST/DB "
        "(postgresql:// means asyncpg too) or sqlite+aiosqlite:///PATH. Default: SQLite in "
        "--data. Or set WIXHTTP_DATABASE_URL."
    ),
)
PROJECT = click.option(
    "--project", default=DEFAULT_PROJECT, show_default=True, help="The project id clients send."
)
ENDPOINT = click.option(
    "--endpoint",
    default="http://127.0.0.1:8080/v1",
    show_default=True,
    envvar="WIXHTTP_ENDPOINT",
    help="The platform's API endpoint (or set WIXHTTP_ENDPOINT).",
)
KEY = click.option(
    "--key", envvar="WIXHTTP_KEY", required=True, help="API key (or set WIXHTTP_KEY)."
)
READ_KEY = click.option(
    "--key",
    envvar="WIXHTTP_KEY",
    required=True,
    help="API key with executions.read (or set WIXHTTP_KEY).",
)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def open_store(data_dir: str | Path, database: DatabaseConfig) -> Store:
    """The store ``database`` names (SQLite in ``data_dir`` if no URL); a bad URL is one line."""
    try:
        return Store.configured(Path(data_dir), database)
    except DatabaseUnusable as exc:
        raise click.ClickException(str(exc)) from None


async def with_store(data_dir: str | Path, database: DatabaseConfig, action: Any) -> Any:
    """``await action(store)`` on the store (see :func:`open_store`), opened and closed around
    it; a database that cannot be opened is one line, not a traceback."""
    store = open_store(data_dir, database)
    try:
        await store.init()
        return await action(store)
    except DatabaseUnusable as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        await store.close()


def base_url(endpoint: str) -> str:
    """The platform's root URL: ``endpoint`` without a trailing ``/v1``."""
    endpoint = endpoint.rstrip("/")
    return endpoint[: -len("/v1")] if endpoint.endswith("/v1") else endpoint


def api_client(endpoint: str, key: str, project: str, *, timeout: float = 60) -> httpx.Client:
    """A client for the Appwrite API at ``endpoint``, authenticated with ``key``."""
    return httpx.Client(
        base_url=base_url(endpoint) + "/v1",
        headers={"X-Appwrite-Project": project, "X-Appwrite-Key": key},
        timeout=timeout,
    )


def failure(response: httpx.Response) -> click.ClickException:
    """An error answer from the API as one line: status and Appwrite's message."""
    try:
        message = response.json().get("message", response.text)
    except ValueError:
        message = response.text
    if response.status_code == 401:
        message += " (check the key and its scopes: wixhttp keys list)"
    return click.ClickException(f"{response.status_code}: {message}")


_Command = TypeVar("_Command", bound=Callable[..., None])


def talks_to_platform(command: _Command) -> _Command:
    """A command that calls the platform's API: a connection failure is one clear line."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except httpx.TransportError as exc:
            endpoint = kwargs.get("endpoint", "")
            raise click.ClickException(
                f"cannot reach the platform at {endpoint}: {exc or type(exc).__name__} "
                "(is `wixhttp platform` running there? see --endpoint)"
            ) from None

    return cast(_Command, wrapper)
