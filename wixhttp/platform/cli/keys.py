"""``wixhttp keys``: create, list and revoke the platform's API keys (in its database)."""

from __future__ import annotations

import click

from wixhttp.platform.auth import SCOPES, create_key, validate_scopes
from wixhttp.platform.cli.common import DATA, DATABASE_URL, PROJECT, run, with_store
from wixhttp.platform.config import DatabaseConfig
from wixhttp.platform.store import Store

__all__ = ["keys_group"]


@click.group("keys")
def keys_group() -> None:
    """Manage the platform's API keys (stored hashed; a key is shown only when created)."""


@keys_group.command("create")
@DATA
@DATABASE_URL
@PROJECT
@click.option(
    "--scopes",
    required=True,
    multiple=True,
    help=f"Comma-separated scopes: {', '.join(SCOPES)}.",
)
@click.option("--name", default="", help="A label for `keys list`.")
def keys_create(
    data_dir: str, database_url: str, project: str, scopes: tuple[str, ...], name: str
) -> None:
    """Create a key. The last line of output is the key itself."""
    try:
        chosen = validate_scopes(s for group in scopes for s in group.split(","))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scopes") from None

    async def action(store: Store) -> tuple[str, str]:
        return await create_key(store, chosen, name=name, project_id=project)

    key_id, secret = run(with_store(data_dir, DatabaseConfig(database_url), action))
    click.echo(f"created key {key_id} (project {project!r}, scopes {','.join(chosen)})", err=True)
    click.echo("store it now: it is not shown again", err=True)
    click.echo(secret)


@keys_group.command("list")
@DATA
@DATABASE_URL
def keys_list(data_dir: str, database_url: str) -> None:
    """List keys: id, project, scopes, created, status (never the secret)."""
    database = DatabaseConfig(database_url)
    rows = run(with_store(data_dir, database, lambda store: store.list_keys()))
    if not rows:
        click.echo("no keys")
        return
    for row in rows:
        status = f"revoked {row['revoked_at']}" if row["revoked_at"] else "active"
        click.echo(
            f"{row['id']}  {row['project_id']}  …{row['hint']}  {','.join(row['scopes'])}  "
            f"{row['created_at']}  {status}" + (f"  {row['name']}" if row["name"] else "")
        )


@keys_group.command("revoke")
@DATA
@DATABASE_URL
@click.argument("key_id")
def keys_revoke(data_dir: str, database_url: str, key_id: str) -> None:
    """Revoke a key by id (see `keys list`); it stops working within a second."""
    database = DatabaseConfig(database_url)
    revoked = run(with_store(data_dir, database, lambda store: store.revoke_key(key_id)))
    if not revoked:
        raise click.ClickException(f"no active key with id {key_id!r}")
    click.echo(f"revoked {key_id}")
