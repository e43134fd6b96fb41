"""``wixhttp deploy`` (pack, upload, build) and ``wixhttp publish`` (Wix-style activation)."""

from __future__ import annotations

import time
from typing import Any

import click
import httpx

from wixhttp.platform.archive import pack
from wixhttp.platform.cli.common import (
    ENDPOINT,
    KEY,
    PROJECT,
    api_client,
    base_url,
    failure,
    talks_to_platform,
)

__all__ = ["deploy_command", "publish_command"]


@click.command("deploy")
@click.argument("site", type=click.Path(exists=True, file_okay=False))
@click.option("--function", "function_id", required=True, help="The function id.")
@click.option("--activate", is_flag=True, help="Serve it at /_functions once it is ready.")
@click.option(
    "--entrypoint",
    default="http_functions.py",
    show_default=True,
    help="The file in SITE whose exports are the HTTP functions.",
)
@click.option(
    "--commands", default="", help="Build commands, e.g. 'pip install -r requirements.txt'."
)
@click.option("--wait", "wait_seconds", default=300.0, show_default=True, help="Seconds to wait.")
@ENDPOINT
@KEY
@PROJECT
@talks_to_platform
def deploy_command(
    site: str,
    function_id: str,
    activate: bool,
    entrypoint: str,
    commands: str,
    wait_seconds: float,
    endpoint: str,
    key: str,
    project: str,
) -> None:
    """Pack SITE, upload it as a deployment of FUNCTION (created if missing), wait for the build."""
    with api_client(endpoint, key, project, timeout=120) as client:
        _ensure_function(client, function_id, entrypoint)
        archive = pack(site, source_only=True)
        response = client.post(
            f"/functions/{function_id}/deployments",
            data={
                "entrypoint": entrypoint,
                "commands": commands,
                "activate": "true" if activate else "false",
            },
            files={"code": ("code.tar.gz", archive)},
        )
        if response.status_code >= 400:
            raise failure(response)
        deployment = response.json()
        click.echo(f"uploaded deployment {deployment['$id']} ({len(archive)} bytes); building…")
        deployment = _wait_for_build(client, function_id, deployment, wait_seconds)
    publish = f"; publish it with: wixhttp publish --function {function_id}"
    click.echo(
        f"deployment {deployment['$id']} ready in {deployment['buildDuration']} s"
        + (" and active" if activate else publish)
    )
    click.echo(f"dev URL: {base_url(endpoint)}/functions/{function_id}/_functions-dev/<name>")


def _ensure_function(client: httpx.Client, function_id: str, entrypoint: str) -> None:
    """Create the function (this host's runtime, executable by anyone) if it does not exist."""
    found = client.get(f"/functions/{function_id}")
    if found.status_code == 404 and found.json().get("type") == "function_not_found":
        runtimes = client.get("/functions/runtimes").json()["runtimes"]
        created = client.post(
            "/functions",
            json={
                "functionId": function_id,
                "name": function_id,
                "runtime": runtimes[0]["$id"],
                "execute": ["any"],
                "entrypoint": entrypoint,
            },
        )
        if created.status_code >= 400:
            raise failure(created)
        click.echo(f"created function {function_id} ({runtimes[0]['$id']}, execute: any)")
    elif found.status_code >= 400:
        raise failure(found)


def _wait_for_build(
    client: httpx.Client, function_id: str, deployment: dict[str, Any], wait_seconds: float
) -> dict[str, Any]:
    """Poll the deployment until it is ready; its build logs and an error if it is not."""
    deadline = time.monotonic() + wait_seconds
    while deployment["status"] not in ("ready", "failed", "canceled"):
        if time.monotonic() > deadline:
            raise click.ClickException(f"still {deployment['status']} after {wait_seconds:g} s")
        time.sleep(0.2)
        polled = client.get(f"/functions/{function_id}/deployments/{deployment['$id']}")
        if polled.status_code >= 400:
            raise failure(polled)
        deployment = polled.json()
    if deployment["status"] != "ready":
        click.echo(deployment["buildLogs"], err=True)
        raise click.ClickException(f"deployment {deployment['$id']} {deployment['status']}")
    return deployment


@click.command("publish")
@click.option("--function", "function_id", required=True, help="The function id.")
@ENDPOINT
@KEY
@talks_to_platform
def publish_command(function_id: str, endpoint: str, key: str) -> None:
    """Activate FUNCTION's latest ready deployment (Wix's upsertFunctionActivation).

    No --project: Wix's activation API takes none; the key must belong to the platform's project.
    """
    url = base_url(endpoint) + "/functions/v1/activations/upsert"
    response = httpx.post(
        url,
        json={"functionActivation": {"functionId": function_id}},
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    if response.status_code >= 400:
        try:
            body = response.json()
            code = body.get("details", {}).get("applicationError", {}).get("code", "")
            message = f"{code}: {body.get('message', '')}" if code else body.get("message", "")
        except ValueError:
            message = response.text
        raise click.ClickException(f"{response.status_code} {message}")
    activation = response.json()["functionActivation"]
    click.echo(
        f"published {function_id}: deployment {activation['deploymentId']}, "
        f"revision {activation['revision']}"
    )
    click.echo(f"URL: {base_url(endpoint)}/functions/{function_id}/_functions/<name>")
