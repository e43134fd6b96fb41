"""Importing an Appwrite-style entrypoint as the open-runtimes Python runtime does: as a module
of the package ``function`` whose folder is the deployment's code, so ``src/main.py`` is
``function.src.main`` and ``from .utils import x`` in it imports ``src/utils.py``.

The code folder is also put first on ``sys.path`` (``import utils`` of a top-level module works
too) and its ``.deps`` (what ``pip install`` put there) after it.
"""

from __future__ import annotations

import importlib
import sys
import traceback
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["PACKAGE", "RuntimeLoadError", "load_main", "module_name"]

#: The package the code folder is imported as (the runtime's name for it).
PACKAGE = "function"


class RuntimeLoadError(Exception):
    """The entrypoint could not be imported, or defines no callable ``main``. ``str()`` is one
    line; ``details`` has the traceback, with paths relative to the code folder."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


def module_name(entrypoint: str) -> str:
    """``src/main.py`` -> ``function.src.main``."""
    path = entrypoint.removesuffix(".py").strip("/").replace("/", ".")
    return f"{PACKAGE}.{path}"


def load_main(code: Path, entrypoint: str) -> Callable[[Any], Any]:
    """Import ``entrypoint`` (relative to ``code``) and return its ``main``."""
    code = code.resolve()
    for path in (str(code / ".deps"), str(code)):
        if path not in sys.path:
            sys.path.insert(0, path)
    package = types.ModuleType(PACKAGE)
    package.__path__ = [str(code)]
    sys.modules[PACKAGE] = package
    try:
        module = importlib.import_module(module_name(entrypoint))
    except Exception as exc:  # noqa: BLE001 - any error in user code is the user's to read
        lines = traceback.format_exception(exc)
        details = "".join(lines).replace(f"{code}/", "")
        raise RuntimeLoadError(
            f"{entrypoint} could not be imported: {type(exc).__name__}: {exc}", details
        ) from None
    main = getattr(module, "main", None)
    if not callable(main):
        raise RuntimeLoadError(
            f"{entrypoint} defines no main function: write def main(context): ... and return "
            "context.res.json(...), context.res.text(...) or context.res.empty()"
        )
    return main  # type: ignore[no-any-return]
