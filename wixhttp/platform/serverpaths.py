"""Server paths out of text a caller reads (an execution's errors and logs, a worker's failure).

A function's owner learns about their code, not the server's disk: the deployment's code folder
reads as paths relative to it (``File "src/main.py"``, ``.`` for the folder itself), the data
directory as ``<data>``, the folder the server is installed in as ``<server>`` and Python's own
as ``<python>``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import wixhttp

__all__ = ["ENTRYPOINT_ENV", "PathScrubber", "code_folder"]

#: The environment variable naming the entrypoint relative to the code folder (the runtime's).
ENTRYPOINT_ENV = "OPEN_RUNTIMES_ENTRYPOINT"

#: Where the server's code is installed (its checkout, or site-packages).
SERVER_DIR = str(Path(wixhttp.__file__).resolve().parent.parent)


def code_folder(entry_dir: Path, entrypoint: str) -> Path:
    """The code folder of a deployment whose entrypoint (``src/main.py``, relative to that
    folder) is in ``entry_dir``: ``entry_dir`` less the entrypoint's folders."""
    depth = len(Path(entrypoint).parts) - 1
    if depth <= 0 or entry_dir.parts[-depth:] != Path(entrypoint).parts[:-1]:
        return entry_dir
    return entry_dir.parents[depth - 1]


class PathScrubber:
    """Replaces server paths in text: ``scrub = PathScrubber(code, data=...); scrub(text)``."""

    def __init__(self, code: Path | None = None, *, data: Path | None = None) -> None:
        hidden: dict[str, str] = {}
        for path, name in (
            (SERVER_DIR, "<server>"),
            (sys.base_prefix, "<python>"),
            (sys.prefix, "<python>"),
        ):
            hidden[path] = name
            hidden[os.path.realpath(path)] = name
        if data is not None:
            for path in {str(data), os.path.realpath(data)}:
                hidden[path] = "<data>"
        if code is not None:
            for path in {str(code), os.path.realpath(code)}:
                hidden[path + os.sep] = ""
                hidden[path] = "."
        # Longest first, so a folder inside another is replaced before its parent; "/" never.
        self._hidden = sorted(
            ((path, name) for path, name in hidden.items() if len(path) > 1),
            key=lambda item: -len(item[0]),
        )

    def __call__(self, text: str) -> str:
        for path, name in self._hidden:
            if path in text:
                text = text.replace(path, name)
        return text
