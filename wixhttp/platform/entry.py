"""What a deployment's entrypoint is, and the build's check that it loads.

Two styles run side by side:

- **Appwrite** (the open-runtimes Python contract): the entrypoint defines ``main`` (a function,
  or a name imported or assigned at its top level), and is not an ``http_functions.py`` with
  Wix-style handlers. It is imported as part of its package (:mod:`wixhttp.platform.runtime`).
- **Wix HTTP functions**: everything else; loaded by the core (:mod:`wixhttp.loading`).

:func:`detect_style` reads the source with ``ast`` (nothing runs), so the build and the worker
agree without importing anything. ``python -m wixhttp.platform.entry CODE ENTRYPOINT`` loads the
entrypoint as a worker would and prints what it found (:func:`inspect_entry`), in a process of
its own so the platform never imports user code.
"""

from __future__ import annotations

import ast
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wixhttp.loading import ENTRYPOINT
from wixhttp.routing import PREFIXES

__all__ = ["APPWRITE", "MARKER", "WIX", "Found", "detect_style", "inspect_entry", "parse_found"]

APPWRITE = "appwrite"
WIX = "wix"
#: The line ``inspect_entry`` prints what it found on.
MARKER = "WIXHTTP-ENTRY "


@dataclass(frozen=True)
class Found:
    """What the build found in the entrypoint: its style and, for Wix, its routes."""

    style: str
    routes: list[dict[str, Any]] = field(default_factory=list)


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).partition(".")[0] for a in node.names)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def detect_style(entry: Path) -> str:
    """:data:`APPWRITE` if ``entry`` defines ``main`` (unless it is an ``http_functions.py``
    with Wix-style handlers), else :data:`WIX` (a file that cannot be read or parsed is left
    to the Wix loader, whose errors name it)."""
    try:
        tree = ast.parse(entry.read_bytes(), str(entry))
    except (OSError, SyntaxError, ValueError):
        return WIX
    names = _top_level_names(tree)
    if "main" not in names:
        return WIX
    # A helper such as get_client() is common beside an Appwrite main; only a Wix entry file
    # (http_functions.py) with handler-named functions stays Wix.
    wix = any(name.partition("_")[0] in PREFIXES and "_" in name for name in names)
    return WIX if wix and entry.name == ENTRYPOINT else APPWRITE


def inspect_entry(code: Path, entrypoint: str) -> int:
    """Load the entrypoint as a worker would; print what was found (or the error)."""
    entry = code / entrypoint
    if detect_style(entry) == APPWRITE:
        from wixhttp.platform.runtime.loader import RuntimeLoadError, load_main

        try:
            load_main(code, entrypoint)
        except RuntimeLoadError as exc:
            print(exc.details.rstrip() or str(exc), flush=True)
            return 2
        print(MARKER + json.dumps({"style": APPWRITE, "routes": []}), flush=True)
        return 0
    from wixhttp.loading import SiteLoadError, load_routes

    try:
        table = load_routes(entry)
    except SiteLoadError as exc:
        print(str(exc), flush=True)
        if exc.details and exc.details != str(exc):
            print(exc.details.rstrip(), flush=True)
        return 2
    routes = [{"name": r.name, "methods": list(r.methods)} for r in table.functions.values()]
    print(MARKER + json.dumps({"style": WIX, "routes": routes}), flush=True)
    return 0


def parse_found(line: str) -> Found:
    """The :class:`Found` printed on a :data:`MARKER` line."""
    data = json.loads(line[len(MARKER) :])
    return Found(str(data["style"]), list(data["routes"]))


if __name__ == "__main__":  # pragma: no cover - run as a subprocess by the builder
    if len(sys.argv) == 3:
        sys.exit(inspect_entry(Path(sys.argv[1]), sys.argv[2]))
    print("usage: python -m wixhttp.platform.entry CODE ENTRYPOINT", file=sys.stderr)
    sys.exit(64)
