"""Projects, API keys and scopes.

Keys look like Appwrite's: ``standard_<64 hex>``. Only a SHA-256 of the secret is stored (keys
are 256 random bits, so a fast hash is enough: there is nothing to brute-force), plus its last
four characters as a hint for ``keys list``. A dynamic key (``dynamic_...``, minted for one
execution: :mod:`wixhttp.platform.dynamic_keys`) holds its function's scopes until it expires. A
caller with no key, an unknown, revoked or expired key is a guest; a route that needs a scope
answers 401 ``general_unauthorized_scope``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from wixhttp.platform import errors
from wixhttp.platform.config import DEFAULT_PROJECT
from wixhttp.platform.dynamic_keys import DYNAMIC_PREFIX, DynamicKeys
from wixhttp.platform.store import Store, new_id, now

__all__ = [
    "DEFAULT_PROJECT",
    "KEY_PREFIX",
    "SCOPES",
    "Caller",
    "authenticate",
    "PresentedKey",
    "create_key",
    "guest_may_execute",
    "hash_secret",
    "require_scope",
    "secret_from",
]

KEY_PREFIX = "standard_"

#: Scopes a key can hold; ``execution.*`` are Appwrite's legacy aliases of ``executions.*``.
SCOPES = (
    "functions.read",
    "functions.write",
    "executions.read",
    "executions.write",
    "execution.read",
    "execution.write",
)
_ALIASES = {"execution.read": "executions.read", "execution.write": "executions.write"}


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class Caller:
    """Who is calling: a key's id and scopes, or a guest (no valid key)."""

    key_id: str | None
    scopes: frozenset[str]

    @property
    def is_key(self) -> bool:
        return self.key_id is not None

    def has(self, scope: str) -> bool:
        return scope in self.scopes


GUEST = Caller(None, frozenset())


@dataclass(frozen=True)
class PresentedKey:
    """The API key a request carries, and whether it came in ``Authorization`` (then that
    header is the caller's secret too and must not reach a function's code)."""

    secret: str
    in_authorization: bool = False


NO_KEY = PresentedKey("")


def secret_from(headers: Mapping[str, str], *, authorization: str = "") -> PresentedKey:
    """The one reader of an API key in a request. ``headers`` maps lower-case names.

    ``authorization=""`` (the ``/v1`` API, as Appwrite): ``X-Appwrite-Key`` only.
    ``authorization="bearer"`` (function URLs): ``X-Appwrite-Key``, else ``Authorization:
    Bearer <key>``. ``authorization="wix"`` (Wix's activation routes): ``Authorization`` with
    the bare key or ``Bearer <key>``, else ``X-Appwrite-Key``.
    """
    appwrite = headers.get("x-appwrite-key", "")
    if not authorization or (appwrite and authorization == "bearer"):
        return PresentedKey(appwrite) if appwrite else NO_KEY
    header = headers.get("authorization", "").strip()
    bearer = header.lower().startswith("bearer ")
    secret = header[7:].strip() if bearer else (header if authorization == "wix" else "")
    if secret:
        return PresentedKey(secret, in_authorization=True)
    return PresentedKey(appwrite) if appwrite else NO_KEY


def guest_may_execute(execute: Iterable[str]) -> bool:
    """Whether a caller without a key may run a function whose ``execute`` list is given."""
    return not {"any", "guests"}.isdisjoint(execute)


def _expand(scopes: Iterable[str]) -> frozenset[str]:
    result = set(scopes)
    result.update(_ALIASES[s] for s in list(result) if s in _ALIASES)
    return frozenset(result)


def validate_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = [s.strip() for s in scopes if s.strip()]
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(unknown)}; choose from {', '.join(SCOPES)}")
    if not chosen:
        raise ValueError(f"give at least one scope: {', '.join(SCOPES)}")
    return list(dict.fromkeys(chosen))


async def create_key(
    store: Store, scopes: Iterable[str], *, name: str = "", project_id: str = DEFAULT_PROJECT
) -> tuple[str, str]:
    """Create a key; returns ``(key_id, secret)``. The secret is not stored and not shown again."""
    chosen = validate_scopes(scopes)
    secret = KEY_PREFIX + secrets.token_hex(32)
    key_id = new_id()
    await store.create_key(
        {
            "id": key_id,
            "project_id": project_id,
            "name": name,
            "secret_hash": hash_secret(secret),
            "hint": secret[-4:],
            "scopes": chosen,
            "created_at": now(),
            "revoked_at": "",
        }
    )
    return key_id, secret


class KeyCache:
    """Resolves secrets to callers; remembers results for ``ttl`` seconds so a hot proxy path
    does not hit the database on every request (a revoked key stops working within ``ttl``)."""

    def __init__(self, store: Store, ttl: float = 1.0) -> None:
        self._store = store
        self._ttl = ttl
        self._cache: dict[str, tuple[float, Caller, str]] = {}
        #: Mints and checks the executions' dynamic keys.
        self.dynamic = DynamicKeys(store)

    async def resolve(self, secret: str, loop_time: float) -> tuple[Caller, str]:
        """``(caller, project_id)`` for ``secret``; a guest for unknown or revoked keys."""
        if secret.startswith(DYNAMIC_PREFIX):
            claims = await self.dynamic.verify(secret)
            if claims is None:
                return GUEST, ""
            granted = _expand(claims.scopes) & frozenset(SCOPES)
            return Caller(f"dynamic:{claims.function_id}", granted), claims.project_id
        digest = hash_secret(secret)
        hit = self._cache.get(digest)
        if hit is not None and loop_time - hit[0] < self._ttl:
            return hit[1], hit[2]
        row = await self._store.key_by_hash(digest)
        if row is None or row["revoked_at"] or not hmac.compare_digest(row["secret_hash"], digest):
            result = (GUEST, "")
        else:
            scopes = row["scopes"] if isinstance(row["scopes"], list) else json.loads(row["scopes"])
            result = (Caller(str(row["id"]), _expand(scopes)), str(row["project_id"]))
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (loop_time, *result)
        return result


async def authenticate(
    headers: Mapping[str, str],
    keys: KeyCache,
    project_id: str,
    loop_time: float,
    *,
    query_project: str = "",
) -> Caller:
    """The caller of a ``/v1`` request: checks the project (``X-Appwrite-Project``, else the
    ``project`` query parameter, as Appwrite accepts), then ``X-Appwrite-Key``."""
    project = headers.get("x-appwrite-project", "") or query_project
    if project != project_id:
        raise errors.project_not_found()
    secret = secret_from(headers).secret
    if not secret:
        return GUEST
    caller, key_project = await keys.resolve(secret, loop_time)
    if caller.is_key and key_project != project_id:
        return GUEST
    return caller


def require_scope(caller: Caller, scope: str, project_id: str) -> None:
    if caller.has(scope):
        return
    role = f"app.{project_id} (role: applications)" if caller.is_key else "User (role: guests)"
    raise errors.unauthorized_scope(role, scope)
