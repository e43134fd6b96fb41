"""Secret variables sealed at rest: Fernet (``cryptography``) with one key per platform.

The key is ``WIXHTTP_SECRET_KEY`` (a Fernet key, or any passphrase, hashed into one) or else the
file ``secret.key`` in the data directory (made 0600 on first use). Every node sharing a database
needs the same key: a node whose key opens none of the sealed values refuses to start
(:class:`SealError`), it never serves them garbled.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from wixhttp.platform.store.database import DatabaseUnusable

__all__ = ["KEY_ENV", "KEY_FILE", "PREFIX", "SealError", "Sealer"]

KEY_ENV = "WIXHTTP_SECRET_KEY"
KEY_FILE = "secret.key"
#: What a sealed value starts with (a value without it was stored before sealing existed).
PREFIX = "wxs1:"


class SealError(DatabaseUnusable):
    """A sealed value this node's key cannot open: this node cannot use the database."""


def _fernet_key(text: str) -> bytes:
    raw = text.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except (binascii.Error, ValueError):
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())


def _key_file(data_dir: Path) -> bytes:
    path = data_dir / KEY_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as file:
        file.write(key + b"\n")
    return key


class Sealer:
    """Seals and opens secret values with one key; ``where`` names the key in errors."""

    def __init__(self, key: bytes, where: str) -> None:
        self._fernet = Fernet(key)
        self.where = where

    @classmethod
    def configured(cls, data_dir: Path | None) -> Sealer | None:
        """The key from ``WIXHTTP_SECRET_KEY``, else ``data_dir``'s key file (None without
        either: secrets are then kept as given)."""
        if os.environ.get(KEY_ENV, "").strip():
            return cls(_fernet_key(os.environ[KEY_ENV]), KEY_ENV)
        if data_dir is None:
            return None
        return cls(_key_file(data_dir), f"the key file {KEY_FILE} in the data directory")

    def seal(self, value: str) -> str:
        # Always sealed, whatever the value looks like: a value the caller wrote as "wxs1:..."
        # is not taken for a sealed one (it would be stored as given, then fail to open).
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    def open(self, value: str) -> str:
        if not value.startswith(PREFIX):
            return value
        try:
            return self._fernet.decrypt(value[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise SealError(
                f"a secret variable cannot be decrypted with this node's key ({self.where}): "
                f"every node sharing the database needs the same {KEY_ENV}"
            ) from None
