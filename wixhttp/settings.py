"""Settings for serving a site, and their ``WIXHTTP_*`` environment variables.

An explicit argument always wins over the environment, which wins over the default.
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

__all__ = ["Settings", "SettingsError", "TrustedProxies"]

DEFAULT_MAX_BODY_SIZE = 512 * 1024
DEFAULT_TIMEOUT = 14.0

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_N = TypeVar("_N", int, float)


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


def _check_explicit(max_body_size: object, timeout: object, debug: object) -> None:
    """Arguments given in code are checked as strictly as the environment: ``debug="no"`` would
    otherwise be truthy, and a NaN timeout would never fire."""
    if isinstance(max_body_size, bool) or not isinstance(max_body_size, int):
        raise SettingsError(f"max_body_size must be an int (bytes), got {max_body_size!r}")
    if max_body_size <= 0:
        raise SettingsError(f"max_body_size must be greater than zero, got {max_body_size}")
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

    @classmethod
    def resolve(
        cls,
        *,
        max_body_size: int | None = None,
        timeout: float | None = None,
        debug: bool | None = None,
        trusted_proxies: Iterable[str] | str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Explicit arguments, then ``WIXHTTP_MAX_BODY_SIZE``, ``WIXHTTP_TIMEOUT``,
        ``WIXHTTP_DEBUG`` and ``WIXHTTP_TRUSTED_PROXIES`` (comma-separated), then defaults."""
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
        _check_explicit(max_body_size, timeout, debug)
        return cls(max_body_size, float(timeout), debug, TrustedProxies(trusted_proxies))
