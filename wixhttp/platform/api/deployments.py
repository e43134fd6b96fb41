"""``/v1/functions/{id}/deployments``: multipart and ``Content-Range`` parsing; the rules are
:class:`~wixhttp.platform.deployments.DeploymentService`'s."""

from __future__ import annotations

import asyncio
import contextlib
import re

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from wixhttp.platform import errors, models
from wixhttp.platform.api.context import Resource, json_response, no_content
from wixhttp.platform.api.params import Params, list_params, query_params, read_json
from wixhttp.platform.archive import pack
from wixhttp.platform.deployments import CHUNK_SIZE
from wixhttp.platform.errors import AppwriteError
from wixhttp.platform.store import DEPLOYMENT_ATTRIBUTES, now

__all__ = ["DeploymentsApi"]

_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


class DeploymentsApi(Resource):
    def routes(self, fn: str) -> list[Route]:
        many, one = fn + "/deployments", fn + "/deployments/{deployment_id}"
        return [
            Route(many, self.list, methods=["GET"]),
            Route(many, self.create, methods=["POST"]),
            Route(many + "/duplicate", self.duplicate, methods=["POST"]),
            Route(many + "/template", self.unsupported, methods=["POST"]),
            Route(many + "/vcs", self.unsupported, methods=["POST"]),
            Route(one, self.get, methods=["GET"]),
            Route(one, self.activate, methods=["PATCH"]),
            Route(one, self.delete, methods=["DELETE"]),
            Route(one + "/builds/{build_id}", self.retry_build, methods=["POST"]),
            Route(one + "/download", self.download, methods=["GET"]),
            Route(one + "/status", self.cancel, methods=["PATCH"]),
        ]

    async def create(self, request: Request) -> Response:
        function = await self.scoped_function(request, "functions.write")
        limit = self.services.deployments.max_source_size
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > min(limit, CHUNK_SIZE) + 1024 * 1024 + (
            limit if "content-range" not in request.headers else 0
        ):
            raise errors.file_too_large(limit)
        chunk_range = _parse_range(request.headers.get("content-range"))
        if chunk_range is not None and chunk_range[2] > limit:
            raise errors.file_too_large(limit)
        try:
            form = await request.form(max_files=1, max_fields=16, max_part_size=64 * 1024)
        except HTTPException as exc:
            raise errors.argument_invalid(f"Invalid multipart body: {exc.detail}") from None
        async with contextlib.AsyncExitStack() as stack:
            stack.push_async_callback(form.close)
            code = form.get("code")
            if not isinstance(code, UploadFile):
                raise errors.file_empty("No file sent.")
            filename = code.filename or ""
            if not (filename.endswith(".gz") or filename.endswith(".tgz")):
                raise errors.file_type_unsupported(filename)
            fields = Params({k: v for k, v in form.items() if isinstance(v, str)})
            settings = {
                "entrypoint": fields.string("entrypoint", max_length=1028)
                or function["entrypoint"]
                or "http_functions.py",
                "commands": fields.string("commands", max_length=8192) or function["commands"],
                "activate": fields.boolean("activate", False),
                # As Appwrite: the CLI says so in its SDK headers; any other upload is manual.
                "type": "cli" if request.headers.get("x-sdk-language") == "cli" else "manual",
            }
            deployments = self.services.deployments
            if chunk_range is None:
                row = await deployments.upload(function["id"], code.file, settings)
            else:
                upload_id = request.headers.get("x-appwrite-id", "")
                row = await deployments.upload_chunk(
                    function["id"], code.file, settings, chunk_range, upload_id
                )
            return json_response(models.deployment_json(row), 202)
        raise AssertionError("unreachable")  # pragma: no cover

    async def duplicate(self, request: Request) -> Response:
        function = await self.scoped_function(request, "functions.write")
        params = await read_json(request)
        deployment_id = params.string("deploymentId", required=True)
        row = await self.services.deployments.duplicate(function["id"], deployment_id)
        return json_response(models.deployment_json(row), 202)

    async def unsupported(self, request: Request) -> Response:
        await self.caller(request, "functions.write")
        raise errors.not_implemented(
            "Template and VCS deployments are not supported by wixhttp platform; upload a "
            ".tar.gz with create_deployment (or `wixhttp deploy`)."
        )

    async def list(self, request: Request) -> Response:
        function = await self.scoped_function(request, "functions.read")
        rows, total = await self.services.deployments.page(
            function["id"], list_params(request, DEPLOYMENT_ATTRIBUTES)
        )
        data = [models.deployment_json(r) for r in rows]
        return json_response({"total": total, "deployments": data})

    async def get(self, request: Request) -> Response:
        function = await self.scoped_function(request, "functions.read")
        deployment_id = request.path_params["deployment_id"]
        row = await self.services.deployments.get(function["id"], deployment_id)
        return json_response(models.deployment_json(row))

    async def delete(self, request: Request) -> Response:
        function = await self.scoped_function(request, "functions.write")
        await self.services.deployments.delete(function, request.path_params["deployment_id"])
        return no_content()

    async def download(self, request: Request) -> Response:
        function = await self.scoped_function(request, "functions.read")
        deployments = self.services.deployments
        row = await deployments.get(function["id"], request.path_params["deployment_id"])
        kind = query_params(request).string("type", default="source")
        if kind == "source":
            return FileResponse(
                deployments.source(row),
                media_type="application/gzip",
                filename=f"{row['id']}-source.tar.gz",
            )
        if kind == "output":
            data = await asyncio.to_thread(pack, deployments.output(row))
            disposition = f'attachment; filename="{row["id"]}-output.tar.gz"'
            return Response(
                data,
                media_type="application/octet-stream",
                headers={"Content-Disposition": disposition},
            )
        raise errors.argument_invalid("Invalid `type` param: Value must be one of (source, output)")

    async def activate(self, request: Request) -> Response:
        """The seed API's "Update Function Deployment": activate a ready deployment (as
        ``PATCH /v1/functions/{id}/deployment`` does), answering the function."""
        function = await self.scoped_function(request, "functions.write")
        functions = self.services.functions
        deployment = await self.services.deployments.get(
            function["id"], request.path_params["deployment_id"]
        )
        row = await functions.set_deployment(function["id"], deployment)
        return json_response(await functions.with_variables(row))

    async def retry_build(self, request: Request) -> Response:
        """The seed API's "Retry Build": a failed or canceled deployment is built again (the
        build id is the deployment id, as every deployment has one build here)."""
        function = await self.scoped_function(request, "functions.write")
        deployments = self.services.deployments
        row = await deployments.get(function["id"], request.path_params["deployment_id"])
        if request.path_params["build_id"] != row["id"]:
            raise errors.build_not_found("Build with the requested ID could not be found.")
        if row["status"] not in ("failed", "canceled"):
            raise _not_retryable(row["status"])
        stamp = f"[{now()}] Retrying the build\n"
        updated = await deployments.update(
            row["id"],
            {"status": "waiting", "build_logs": stamp, "build_duration": 0, "claimed_by": None},
            only_if_status=["failed", "canceled"],
        )
        if updated is None:  # retried (or deleted) meanwhile
            raise _not_retryable("waiting")
        deployments.builder.wake()
        return no_content()

    async def cancel(self, request: Request) -> Response:
        function = await self.scoped_function(request, "functions.write")
        deployment_id = request.path_params["deployment_id"]
        row = await self.services.deployments.cancel(function["id"], deployment_id)
        return json_response(models.deployment_json(row))


def _not_retryable(status: str) -> AppwriteError:
    return AppwriteError(
        400,
        "build_in_progress",
        f'Only a failed or canceled build can be retried; this one is "{status}".',
    )


def _parse_range(header: str | None) -> tuple[int, int, int] | None:
    """``Content-Range: bytes start-end/size`` as numbers; None without the header."""
    if header is None:
        return None
    match = _CONTENT_RANGE.match(header.strip())
    if not match:
        raise errors.content_range_invalid(header[:100])
    start, end, size = (int(g) for g in match.groups())
    if not start <= end < size:
        raise errors.content_range_invalid(header[:100])
    return start, end, size
