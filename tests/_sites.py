"""The core's fixture sites (``tests/sites/<name>``) and the type of the ``make_client`` fixture."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from wixhttp.testing import TestClient

SITES = Path(__file__).resolve().parent / "sites"

#: ``make_client("routing", debug=False)`` (see ``tests/conftest.py``).
ClientFactory = Callable[..., TestClient]


def site(name: str) -> Path:
    """The directory of the fixture site ``tests/sites/<name>``."""
    path = SITES / name
    assert path.is_dir(), f"no fixture site {name!r}"
    return path
