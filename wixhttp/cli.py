"""The ``wixhttp`` command: dev and serve, the site commands of :mod:`wixhttp.site_commands`
(routes, openapi, new), and the platform's commands when installed.

Thin by design: parse, call, print. Errors are one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
from typing import Any

import click
import uvicorn

from wixhttp import __version__
from wixhttp.app import WixHttpApp, create_app
from wixhttp.loading import LoadedSite, load_site
from wixhttp.logs import LOG_FORMATS
from wixhttp.logs import install as install_logging
from wixhttp.reload import EnvFile, Reloader
from wixhttp.settings import Settings
from wixhttp.site_commands import SITE, new, one_line_errors, openapi, routes
from wixhttp.site_commands import entry as site_entry
from wixhttp.supervisor import mark_serving, run_workers

__all__ = ["main"]

log = logging.getLogger("wixhttp")

HOST = click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
PORT = click.option("--port", default=8000, show_default=True, type=int, help="TCP port.")
# The settings' environment variables are read by Settings.resolve (after SITE/.env is
# applied, and a bad value is one line), not by click: the help names them instead.
TIMEOUT = click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds a handler may run before the caller gets 504 "
    "(default: 14; or set WIXHTTP_TIMEOUT).",
)
MAX_BODY_SIZE = click.option(
    "--max-body-size",
    type=click.IntRange(min=1),
    help="Largest request body in bytes; larger ones get 413 "
    "(default: 524288; or set WIXHTTP_MAX_BODY_SIZE).",
)
LOG_FORMAT = click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    default="text",
    show_default=True,
    envvar="WIXHTTP_LOG_FORMAT",
    show_envvar=True,
    help="Log lines (access, server, what handlers print) as text or as JSON objects.",
)


PLATFORM_COMMANDS = {
    "platform": "platform_command",
    "keys": "keys_group",
    "deploy": "deploy_command",
    "publish": "publish_command",
    "executions": "executions_command",
    "logs": "logs_command",
}


class _Commands(click.Group):
    """The core commands, plus the platform's, which are loaded lazily."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *PLATFORM_COMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in PLATFORM_COMMANDS:
            command = _platform_command(cmd_name)
        return command


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wixhttp")
def main() -> None:
    """Wix-Velo-style HTTP functions in Python.

    Export get_<name>, post_<name>, ... from http_functions.py; each is served at
    /_functions/<name> and /_functions-dev/<name>.
    """


@main.command()
@SITE
@HOST
@PORT
@click.option(
    "--keep-last-good",
    is_flag=True,
    help="After a broken save, keep serving the last good code instead of showing the error.",
)
@TIMEOUT
@MAX_BODY_SIZE
@LOG_FORMAT
def dev(
    site: str,
    host: str,
    port: int,
    keep_last_good: bool,
    timeout: float | None,
    max_body_size: int | None,
    log_format: str,
) -> None:
    """Serve SITE with hot reload and debug errors (SITE defaults to '.').

    Always in debug mode: a failing handler's traceback is in its 500 response. Every save
    re-imports the site, so module-level state (caches, in-memory stores) starts afresh.
    """
    entry = site_entry(site)
    install_logging(log_format=log_format)
    env = EnvFile(entry.parent / ".env")
    env.apply()  # WIXHTTP_* settings may come from the site's .env, as with serve
    with one_line_errors():
        settings = Settings.resolve(debug=True, timeout=timeout, max_body_size=max_body_size)
    app = WixHttpApp(None, settings, console=True)
    reloader = Reloader(app, entry, keep_last_good=keep_last_good, env=env)
    reloader.load_initial()
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=False,
        lifespan="on",
        log_level="info",
        log_config=None,  # uvicorn's own lines go through wixhttp's format (logs.install)
        proxy_headers=False,  # X-Forwarded-* are wixhttp's call (trusted_proxies), not uvicorn's
    )
    server = uvicorn.Server(config)
    if app.console is not None:  # open live feeds end when the server stops, not hold it up
        app.console.feed.stopping = lambda: server.should_exit

    async def run() -> None:
        stop = asyncio.Event()
        watcher = asyncio.create_task(reloader.watch(stop))
        try:
            await server.serve()
        finally:
            stop.set()
            await watcher

    log.info("wixhttp dev: watching %s (Ctrl+C to stop)", entry.parent)
    log.info("console: http://%s:%d/_wixhttp/", _url_host(host), port)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C: uvicorn has shut down, quietly
        asyncio.run(run())


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


#: The site ``serve`` checked, reused by its one in-process worker (so the site's import-time
#: code runs once); ``--workers N`` processes load their own from ``WIXHTTP_SITE``.
_checked_site: LoadedSite | None = None


def serve_factory() -> WixHttpApp:
    """The app for ``wixhttp serve`` workers; the site comes from ``WIXHTTP_SITE``. Never
    debug (no tracebacks to callers, whatever WIXHTTP_DEBUG says); logging is set up here
    because ``--workers`` starts fresh processes (``serve`` passes its options in the
    environment)."""
    install_logging(log_format=os.environ.get("WIXHTTP_LOG_FORMAT", "text"))
    console = os.environ.get(CONSOLE_ENV) == "1"
    if _checked_site is None:
        app = create_app(os.environ["WIXHTTP_SITE"], debug=False, console=console)
        mark_serving()
        return app
    app = WixHttpApp(_checked_site, Settings.resolve(debug=False), console=console)
    if app.console is not None and _console_server is not None:
        server = _console_server  # open live feeds end when it stops, not hold it up
        app.console.feed.stopping = lambda: server.should_exit
    return app


#: How ``serve --console`` reaches its workers (fresh processes under ``--workers``).
CONSOLE_ENV = "WIXHTTP_SERVE_CONSOLE"
#: The one server ``serve --console`` runs (its console's feeds watch it to end on shutdown).
_console_server: uvicorn.Server | None = None


@main.command()
@SITE
@HOST
@PORT
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes, each with its own copy of the site and its module-level state.",
)
@click.option("--uds", type=click.Path(dir_okay=False), help="Bind to this Unix socket instead.")
@click.option(
    "--graceful-timeout",
    default=30,
    show_default=True,
    type=click.IntRange(0),
    help="Seconds in-flight requests get to finish on shutdown.",
)
@click.option(
    "--console",
    is_flag=True,
    help="Serve the console (functions, try-it, live feed) at /_wixhttp/, as dev does. "
    "Anyone who reaches the server can use it: keep it on a private address.",
)
@TIMEOUT
@MAX_BODY_SIZE
@LOG_FORMAT
def serve(
    site: str,
    host: str,
    port: int,
    workers: int,
    uds: str | None,
    graceful_timeout: int,
    console: bool,
    timeout: float | None,
    max_body_size: int | None,
    log_format: str,
) -> None:
    """Serve SITE for production: no reload, never a traceback in a response (whatever
    WIXHTTP_DEBUG says)."""
    if console and workers > 1:  # each worker would have its own feed and traces
        raise click.ClickException("--console needs one worker; drop --workers or --console")
    entry = site_entry(site)
    EnvFile(entry.parent / ".env").apply()
    # Options reach the workers (fresh processes under --workers) through the environment.
    if timeout is not None:
        os.environ["WIXHTTP_TIMEOUT"] = repr(timeout)
    if max_body_size is not None:
        os.environ["WIXHTTP_MAX_BODY_SIZE"] = str(max_body_size)
    os.environ["WIXHTTP_LOG_FORMAT"] = log_format
    os.environ[CONSOLE_ENV] = "1" if console else "0"
    global _checked_site
    with one_line_errors():
        Settings.resolve()
        checked = load_site(entry)  # fail here, with one clear line, rather than in every worker
    _checked_site = checked if workers == 1 else None
    install_logging(log_format=log_format)
    os.environ["WIXHTTP_SITE"] = str(entry)
    options: dict[str, Any] = dict(
        factory=True,
        host=host,
        port=port,
        uds=uds,
        workers=workers,
        access_log=False,
        proxy_headers=False,  # X-Forwarded-* are wixhttp's call (trusted_proxies), not uvicorn's
        timeout_graceful_shutdown=graceful_timeout,
        log_config=None,
    )
    if workers > 1:
        run_workers(SERVE_FACTORY, **options)  # replaces a worker that exits, whatever its code
        return
    if not console:
        uvicorn.run(SERVE_FACTORY, **options)
        return
    # What uvicorn.run does for one worker, keeping the server for the console to watch.
    global _console_server
    server = _console_server = uvicorn.Server(uvicorn.Config(SERVE_FACTORY, **options))
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.run()
    finally:
        if uds and os.path.exists(uds):
            os.remove(uds)


SERVE_FACTORY = "wixhttp.cli:serve_factory"


for _command in (routes, openapi, new):
    main.add_command(_command)


def _platform_command(name: str) -> click.Command | None:
    """A platform command, imported only when asked for (it pulls in SQLAlchemy & co)."""
    try:
        platform_cli = importlib.import_module("wixhttp.platform.cli")
    except ImportError as exc:
        missing = str(exc)

        @click.command(name=name, context_settings={"ignore_unknown_options": True})
        @click.argument("args", nargs=-1, type=click.UNPROCESSED)
        def unavailable(args: tuple[str, ...]) -> None:
            """Part of the functions platform (needs: pip install 'wixhttp[platform]')."""
            raise click.ClickException(
                f"the platform is not installed ({missing}); run: pip install 'wixhttp[platform]'"
            )

        return unavailable
    command = getattr(platform_cli, PLATFORM_COMMANDS[name], None)
    return command if isinstance(command, click.Command) else None
