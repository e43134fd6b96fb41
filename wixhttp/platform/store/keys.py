"""API keys: created by ``wixhttp platform keys``, looked up by the hash of their secret; and the
secrets all nodes share (``platform_secrets``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from wixhttp.platform.store.base import Row, StoreBase, now, typed
from wixhttp.platform.store.rows import KeyRow
from wixhttp.platform.store.tables import api_keys, platform_secrets

__all__ = ["KeyQueries"]


class KeyQueries(StoreBase):
    """Reads and writes of ``api_keys``."""

    async def create_key(self, values: Mapping[str, Any]) -> Row:
        return await self._insert(api_keys, values)

    async def key_by_hash(self, secret_hash: str) -> KeyRow | None:
        return await self._one(KeyRow, api_keys, api_keys.c.secret_hash == secret_hash)

    async def list_keys(self) -> list[KeyRow]:
        async with self.engine.connect() as conn:
            result = await conn.execute(select(api_keys).order_by(api_keys.c.seq))
            return [typed(KeyRow, r) for r in result.mappings()]

    async def revoke_key(self, key_id: str) -> bool:
        row = await self._update(
            KeyRow,
            api_keys,
            {"revoked_at": now()},
            api_keys.c.id == key_id,
            condition=[api_keys.c.revoked_at == ""],
        )
        return row is not None

    async def shared_secret(self, name: str, candidate: str) -> str:
        """The secret ``name``: ``candidate`` if none was stored yet (then it is), else the one
        stored first, so that every node gets the same."""
        dialect = self.engine.dialect.name
        module = postgresql if dialect == "postgresql" else sqlite
        insert = module.insert(platform_secrets).on_conflict_do_nothing()
        async with self.engine.begin() as conn:
            await conn.execute(insert.values(name=name, value=candidate, created_at=now()))
            value = await conn.scalar(
                select(platform_secrets.c.value).where(platform_secrets.c.name == name)
            )
        assert value is not None
        return str(value)
