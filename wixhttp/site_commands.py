"""The ``wixhttp`` commands that read or write a site without serving it: ``routes``,
``openapi`` and ``new``, with what every site command shares (the SITE argument, one-line
errors)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import click

from wixhttp.loading import ENTRYPOINT, SiteLoadError, load_site, resolve_site
from wixhttp.openapi import site_document
from wixhttp.settings import SettingsError

__all__ = ["SITE", "entry", "new", "one_line_errors", "openapi", "routes"]

SITE = click.argument("site", default=".", type=click.Path(file_okay=True, dir_okay=True))


@contextlib.contextmanager
def one_line_errors() -> Iterator[None]:
    """A site that cannot load or a bad setting ends the command with its one line."""
    try:
        yield
    except (SiteLoadError, SettingsError) as exc:
        raise click.ClickException(str(exc)) from None


def entry(site: str) -> Path:
    """The site's entry file, or the command's one-line error."""
    with one_line_errors():
        return resolve_site(site)


@click.command()
@SITE
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def routes(site: str, as_json: bool) -> None:
    """List SITE's functions: name, methods, handler and file:line."""
    with one_line_errors():
        loaded = load_site(entry(site))
    rows: list[dict[str, Any]] = [
        {
            "name": route.name,
            "method": handler.method,
            "handler": handler.export_name,
            "location": handler.location,
            "async": handler.is_async,
        }
        for route in loaded.routes.functions.values()
        for handler in route.handlers.values()
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    root = loaded.directory
    widths = [max(len(str(r[k])) for r in [*rows, _HEADER]) for k in ("name", "method", "handler")]
    click.echo(
        f"{'FUNCTION':<{widths[0]}}  {'METHOD':<{widths[1]}}  {'HANDLER':<{widths[2]}}  LOCATION"
    )
    for row in rows:
        location = str(row["location"])
        if root is not None and location.startswith(f"{root}{os.sep}"):
            location = location[len(str(root)) + 1 :]
        click.echo(
            f"{row['name']:<{widths[0]}}  {row['method']:<{widths[1]}}  "
            f"{row['handler']:<{widths[2]}}  {location}"
        )


_HEADER = {"name": "FUNCTION", "method": "METHOD", "handler": "HANDLER"}


@click.command()
@SITE
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    help="Write the document to this file instead of printing it.",
)
@click.option("--title", help="The API's title (default: the site folder's name).")
@click.option(
    "--version",
    "api_version",
    help="The API's version (default: __version__ in http_functions.py, else 0.0.0).",
)
@click.option(
    "--server",
    "servers",
    multiple=True,
    help="A base URL the site is served at, e.g. https://api.example.com; repeatable "
    "(default: /, wherever the document is served from).",
)
def openapi(
    site: str,
    output: str | None,
    title: str | None,
    api_version: str | None,
    servers: tuple[str, ...],
) -> None:
    """Print SITE's OpenAPI 3.1 document as JSON: one path per function, one operation per
    method, from the handlers' docstrings and @describe."""
    with one_line_errors():
        loaded = load_site(entry(site))
    document = site_document(loaded, title=title, version=api_version, servers=servers or ("/",))
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
    operations = sum(m != "parameters" for item in document["paths"].values() for m in item)
    click.echo(f"wrote {output}: {len(document['paths'])} paths, {operations} operations")


@click.command()
@click.argument("directory", type=click.Path(file_okay=False))
def new(directory: str) -> None:
    """Create a new site in DIRECTORY: a starter http_functions.py, its tests and a pytest.ini."""
    target = Path(directory)
    if target.exists() and any(target.iterdir()):
        raise click.ClickException(f"{target} exists and is not empty; choose a new directory")
    target.mkdir(parents=True, exist_ok=True)
    # The test file is named after the site: pytest (in its default import mode) refuses two
    # test modules of the same name, so two sites side by side could not be tested together.
    tests = f"test_{re.sub(r'[^0-9A-Za-z_]', '_', target.resolve().name)}.py"
    written = {
        ENTRYPOINT: f"{ENTRYPOINT}.example",
        tests: f"test_{ENTRYPOINT}.example",
        "pytest.ini": "pytest.ini.example",
    }
    templates = resources.files("wixhttp") / "templates"
    for name, template in written.items():
        with resources.as_file(templates / template) as path:
            shutil.copyfile(path, target / name)
    click.echo(f"created {target}{os.sep}: {', '.join(written)}")
    click.echo("next:")
    click.echo(f"  wixhttp dev {target}      # http://127.0.0.1:8000/_functions/hello/you")
    click.echo(f"  wixhttp routes {target}   # its functions and where they are")
    click.echo(f"  pytest {target}           # its tests; pytest comes with: {TESTING_INSTALL}")


#: What gives a site's tests their runner: the ``testing`` extra (pytest).
TESTING_INSTALL = "pip install 'wixhttp[testing]'"
