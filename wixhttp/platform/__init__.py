"""wixhttp platform: a self-hosted functions server speaking the Appwrite Functions API.

Start it with ``wixhttp platform --data DIR`` (or ``python -m wixhttp.platform``); create an
API key with ``wixhttp keys create --data DIR --scopes functions.read,functions.write``; then
drive it with the official ``appwrite`` SDK, ``wixhttp deploy`` and ``wixhttp publish``.
"""

from __future__ import annotations

__all__: list[str] = []
