"""Settings for serving a site, and their ``WIXHTTP_*`` environment variables.

An explicit argument always wins over the environment, which wins over the default.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

__all__ = ["CORS", "Settings", "SettingsError", "TrustedProxies"]

DEFAULT_MAX_BODY_SIZE = 512 * 1024
DEFAULT_MAX_HEADER_SIZE = 64 * 1024
DEFAULT_TIMEOUT = 14.0
DEFAULT_CORS_MAX_AGE = 600  # seconds a browser may cache a preflight answer (Starlette's default)

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_N = TypeVar("_N", int, float)
_T = TypeVar("_T")


class SettingsError(ValueError):
    """A setting (argument or environment variable) has a value that cannot be used."""


class TrustedProxies:
    """The proxies whose ``X-Forwarded-*`` headers are believed: IPs, CIDR networks, or ``*``."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.any = False
        networks: list[_Network] = []
        for raw in entries:
            entry = str(raw).strip()
            if not entry:
                continue
            if entry == "*":
                self.any = True
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise SettingsError(
                    f"trusted proxy {entry!r} is not an IP address, a network like "
                    "10.0.0.0/8, or '*'"
                ) from None
        self.networks = tuple(networks)

    def __bool__(self) -> bool:
        return self.any or bool(self.networks)

    def trusts(self, host: str) -> bool:
        if self.any:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped  # a server on "::" sees IPv4 peers as ::ffff:a.b.c.d
        return any(address in network for network in self.networks)

    def client_from_chain(self, forwarded_for: str, peer: str) -> str:
        """The right-most address in ``X-Forwarded-For`` that is not itself a trusted proxy."""
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else peer


_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://[^/?#\s,]+")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _names(value: object, what: str) -> tuple[str, ...]:
    """A comma-separated string or an iterable of strings, as a tuple without blanks."""
    items = value.split(",") if isinstance(value, str) else value
    if isinstance(items, bytes) or not isinstance(items, Iterable):
        raise SettingsError(f"{what} must be a comma-separated string or a list, got {value!r}")
    if not all(isinstance(item, str) for item in items):
        raise SettingsError(f"{what} must hold strings, got {value!r}")
    return tuple(item.strip() for item in items if item.strip())


def _header_names(value: Iterable[str] | str, what: str) -> tuple[str, ...]:
    names = _names(value, f"CORS {what}")
    for name in names:
        if not _TOKEN.fullmatch(name):
            raise SettingsError(f"CORS {what}: {name!r} is not a header name")
    return names


@dataclass(frozen=True, init=False)
class CORS:
    """Cross-origin access for browsers; off when ``origins`` is empty (the default).

    ``origins``: the allowed origins (``https://shop.example``, no path) or ``"*"``;
    ``allow_headers``: the request headers a preflight allows (empty: the ones it asks for);
    ``expose_headers``: response headers scripts may read; ``allow_credentials``: cookies and
    ``Authorization`` allowed; ``max_age``: seconds a browser caches a preflight answer.
    Strings may be comma-separated lists.
    """

    origins: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    allow_credentials: bool
    max_age: int

    def __init__(
        self,
        origins: Iterable[str] | str = (),
        *,
        allow_headers: Iterable[str] | str = (),
        expose_headers: Iterable[str] | str = (),
        allow_credentials: bool = False,
        max_age: int = DEFAULT_CORS_MAX_AGE,
    ) -> None:
        checked = tuple(o.lower() for o in _names(origins, "CORS origins"))
        for origin in checked:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise SettingsError(
                    f"CORS origin {origin!r} is not an origin like https://shop.example "
                    "(scheme and host, an optional port, no path or trailing slash) or '*'"
                )
        if "*" in checked and len(checked) > 1:
            raise SettingsError("CORS origin '*' allows every origin; give it alone")
        if not isinstance(allow_credentials, bool):
            raise SettingsError(
                f"CORS allow_credentials must be True or False, got {allow_credentials!r}"
            )
        if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0:
            raise SettingsError(f"CORS max_age must be an int >= 0 (seconds), got {max_age!r}")
        object.__setattr__(self, "origins", checked)
        object.__setattr__(self, "allow_headers", _header_names(allow_headers, "allow_headers"))
        object.__setattr__(self, "expose_headers", _header_names(expose_headers, "expose_headers"))
        object.__setattr__(self, "allow_credentials", allow_credentials)
        object.__setattr__(self, "max_age", max_age)

    def __bool__(self) -> bool:
        return bool(self.origins)

    @classmethod
    def of(cls, value: CORS | str | Iterable[str] | None, env: Mapping[str, str]) -> CORS:
        """``value`` (a CORS, or origins), else the ``WIXHTTP_CORS_*`` variables."""
        if isinstance(value, CORS):
            return value
        if value is not None:
            if isinstance(value, bool):
                raise SettingsError(f"cors must be origins or a CORS(...), got {value!r}")
            return cls(origins=_names(value, "cors"))
        age = env.get("WIXHTTP_CORS_MAX_AGE", "").strip()
        if age and not age.isdigit():
            raise SettingsError(f"WIXHTTP_CORS_MAX_AGE={age!r} is not a number of seconds")
        return cls(
            _env_cors(env, "WIXHTTP_CORS_ORIGINS", lambda v: cls(v).origins),
            allow_headers=_env_cors(
                env, "WIXHTTP_CORS_ALLOW_HEADERS", lambda v: _header_names(v, "allow_headers")
            ),
            expose_headers=_env_cors(
                env, "WIXHTTP_CORS_EXPOSE_HEADERS", lambda v: _header_names(v, "expose_headers")
            ),
            allow_credentials=_env_bool(env, "WIXHTTP_CORS_ALLOW_CREDENTIALS"),
            max_age=int(age) if age else DEFAULT_CORS_MAX_AGE,
        )


def _env_cors(env: Mapping[str, str], name: str, parse: Callable[[str], _T]) -> _T:
    value = env.get(name, "")
    try:
        return parse(value)
    except SettingsError as exc:
        raise SettingsError(f"{name}={value!r}: {exc}") from None


def _env_bool(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "")
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{name}={value!r} is not a boolean; use 1/0, true/false, yes/no or on/off")


def _env_number(env: Mapping[str, str], name: str, kind: type[_N], default: _N) -> _N:
    """``env[name]`` as a ``kind`` greater than zero; ``default`` when it is unset or blank."""
    value = env.get(name, "")
    if not value.strip():
        return default
    try:
        number = kind(value.strip())
    except ValueError:
        what = "an integer number of bytes" if kind is int else "a number of seconds"
        raise SettingsError(f"{name}={value!r} is not {what}") from None
    if not math.isfinite(number) or number <= 0:
        raise SettingsError(f"{name} must be a finite number greater than zero, got {value!r}")
    return number


def _check_size(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError(f"{name} must be an int (bytes), got {value!r}")
    if value <= 0:
        raise SettingsError(f"{name} must be greater than zero, got {value}")


def _check_explicit(max_body_size: object, timeout: object, debug: object) -> None:
    """Arguments given in code are checked as strictly as the environment: ``debug="no"`` would
    otherwise be truthy, and a NaN timeout would never fire."""
    _check_size(max_body_size, "max_body_size")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise SettingsError(f"timeout must be a number of seconds, got {timeout!r}")
    if not math.isfinite(timeout) or timeout <= 0:
        raise SettingsError(f"timeout must be a finite number greater than zero, got {timeout}")
    if not isinstance(debug, bool):
        raise SettingsError(f"debug must be True or False, got {debug!r}")


@dataclass(frozen=True)
class Settings:
    """How a site is served. See :meth:`resolve` for how values are chosen."""

    max_body_size: int = DEFAULT_MAX_BODY_SIZE
    timeout: float = DEFAULT_TIMEOUT
    debug: bool = False
    trusted_proxies: TrustedProxies = field(default_factory=lambda: TrustedProxies(()))
    cors: CORS = field(default_factory=CORS)
    max_header_size: int = DEFAULT_MAX_HEADER_SIZE

    @classmethod
    def resolve(
        cls,
        *,
        max_body_size: int | None = None,
        timeout: float | None = None,
        debug: bool | None = None,
        trusted_proxies: Iterable[str] | str | None = None,
        cors: CORS | str | Iterable[str] | None = None,
        max_header_size: int | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Explicit arguments, then ``WIXHTTP_MAX_BODY_SIZE``, ``WIXHTTP_TIMEOUT``,
        ``WIXHTTP_DEBUG``, ``WIXHTTP_TRUSTED_PROXIES`` (comma-separated),
        ``WIXHTTP_MAX_HEADER_SIZE`` (bytes of request header names and values) and the
        ``WIXHTTP_CORS_*`` variables (see :meth:`CORS.of`), then defaults. A ``cors`` argument
        replaces all of the ``WIXHTTP_CORS_*`` variables."""
        env = os.environ if environ is None else environ
        if max_body_size is None:
            max_body_size = _env_number(env, "WIXHTTP_MAX_BODY_SIZE", int, DEFAULT_MAX_BODY_SIZE)
        if timeout is None:
            timeout = _env_number(env, "WIXHTTP_TIMEOUT", float, DEFAULT_TIMEOUT)
        if debug is None:
            debug = _env_bool(env, "WIXHTTP_DEBUG")
        if trusted_proxies is None:
            trusted_proxies = env.get("WIXHTTP_TRUSTED_PROXIES", "")
        if isinstance(trusted_proxies, str):
            trusted_proxies = trusted_proxies.split(",")
        if max_header_size is None:
            max_header_size = _env_number(
                env, "WIXHTTP_MAX_HEADER_SIZE", int, DEFAULT_MAX_HEADER_SIZE
            )
        _check_explicit(max_body_size, timeout, debug)
        _check_size(max_header_size, "max_header_size")
        proxies = TrustedProxies(trusted_proxies)
        cors_setting = CORS.of(cors, env)
        return cls(max_body_size, float(timeout), debug, proxies, cors_setting, max_header_size)
