"""Dynamic API keys: the short-lived key each execution gets (Appwrite's ``x-appwrite-key``).

A key is ``dynamic_<claims>.<signature>``: the claims (project, function, scopes, expiry in epoch
seconds) as base64url JSON, signed with HMAC-SHA256. The signing secret is made by the first node
that needs one and kept in the database (``platform_secrets``), so every node of a platform mints
and accepts the same keys; nothing else is stored. A key lives for the function's timeout plus
:data:`MARGIN` seconds (Appwrite: timeout + 60 s) and grants the function's ``scopes``, nothing
more. Keys are never logged: a caller logs at most a function id.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["DYNAMIC_KEY_HEADER", "DYNAMIC_PREFIX", "MARGIN", "DynamicClaims", "DynamicKeys"]

DYNAMIC_PREFIX = "dynamic_"
#: The request header a function finds its key in (as on Appwrite).
DYNAMIC_KEY_HEADER = b"x-appwrite-key"
#: Seconds a key outlives the function's timeout (Appwrite's margin).
MARGIN = 60
_SECRET_NAME = "dynamic-keys"


class SecretSource(Protocol):
    async def shared_secret(self, name: str, candidate: str) -> str: ...


@dataclass(frozen=True)
class DynamicClaims:
    """What a valid dynamic key grants."""

    project_id: str
    function_id: str
    scopes: tuple[str, ...]
    expires: float


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class DynamicKeys:
    """Mints and checks dynamic keys with the platform's shared secret (read once)."""

    def __init__(self, store: SecretSource, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        self._secret: bytes | None = None
        self._lock = asyncio.Lock()

    async def _key(self) -> bytes:
        if self._secret is None:
            async with self._lock:
                if self._secret is None:
                    value = await self._store.shared_secret(_SECRET_NAME, secrets.token_hex(32))
                    self._secret = bytes.fromhex(value)
        return self._secret

    async def mint(
        self, project_id: str, function_id: str, scopes: Iterable[str], timeout: float
    ) -> str:
        """A key for one run of ``function_id``, valid ``timeout`` + :data:`MARGIN` seconds."""
        claims = {
            "p": project_id,
            "f": function_id,
            "s": list(scopes),
            "e": int(self._clock() + timeout + MARGIN),
        }
        body = _encode(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(await self._key(), body.encode("ascii"), hashlib.sha256).digest()
        return f"{DYNAMIC_PREFIX}{body}.{_encode(signature)}"

    async def header(self, project_id: str, function: Mapping[str, Any]) -> tuple[bytes, bytes]:
        """The ``x-appwrite-key`` header for one run of ``function`` (a function row)."""
        key = await self.mint(
            project_id, function["id"], function["scopes"], float(function["timeout"])
        )
        return DYNAMIC_KEY_HEADER, key.encode("ascii")

    async def verify(self, key: str) -> DynamicClaims | None:
        """The claims of ``key`` if it is one this platform signed and it has not expired."""
        if not key.startswith(DYNAMIC_PREFIX) or key.count(".") != 1:
            return None
        body, _, signature = key[len(DYNAMIC_PREFIX) :].partition(".")
        expected = hmac.new(await self._key(), body.encode("ascii", "replace"), hashlib.sha256)
        try:
            if not hmac.compare_digest(expected.digest(), _decode(signature)):
                return None
            claims = json.loads(_decode(body))
            result = DynamicClaims(
                str(claims["p"]), str(claims["f"]), tuple(map(str, claims["s"])), claims["e"]
            )
        except (binascii.Error, ValueError, KeyError, TypeError, UnicodeEncodeError):
            return None
        return result if self._clock() < result.expires else None
