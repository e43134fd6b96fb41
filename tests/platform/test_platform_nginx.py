"""nginx in front of three platform nodes on one PostgreSQL database, with the configuration the
README prints under "Running several nodes" (read from README.md, so the two cannot drift; only
its ports are changed).

nginx runs as this test's own process (``nginx -p DIR -c CONF -e LOG -g 'daemon off;'``, its
pid, logs and temp files under the test's temp directory, on a free unprivileged port), as root
or not. Skips, saying why, where nginx or PostgreSQL is absent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from appwrite.client import Client
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.input_file import InputFile
from appwrite.services.functions import Functions

from tests._postgres import drop_database, new_database
from tests._servers import free_port
from tests.platform._support import (
    PROJECT,
    RUNTIME,
    PlatformProcess,
    make_bundle,
    unique_id,
    wait_for_build,
)

pytestmark = pytest.mark.own_database

README = Path(__file__).resolve().parents[2] / "README.md"
#: What the README's configuration listens on and proxies to; the test swaps in its own ports.
README_LISTEN = "listen 8080;"
README_NODES = ("server 127.0.0.1:8081;", "server 127.0.0.1:8082;", "server 127.0.0.1:8083;")
#: The temp paths nginx creates at start-up, by the module that uses each (all but the
#: client body's may be compiled out, e.g. in a light build).
TEMP_PATHS = {
    "client_body_temp_path": None,
    "proxy_temp_path": "http_proxy",
    "fastcgi_temp_path": "http_fastcgi",
    "uwsgi_temp_path": "http_uwsgi",
    "scgi_temp_path": "http_scgi",
}


def readme_nginx_config() -> str:
    """The one ``nginx`` code block of the README's "Running several nodes" section."""
    text = README.read_text(encoding="utf-8")
    start = text.index("### Running several nodes")
    end = text.find("\n## ", start)
    blocks = re.findall(r"^```nginx\n(.*?)^```", text[start:end], re.S | re.M)
    assert len(blocks) == 1, "the section should print exactly one nginx configuration"
    return str(blocks[0])


def with_ports(config: str, listen: int, nodes: list[int]) -> str:
    """The README's configuration listening on ``127.0.0.1:listen`` in front of ``nodes``."""
    swaps = [(README_LISTEN, f"listen 127.0.0.1:{listen};")]
    swaps += [
        (old, f"server 127.0.0.1:{port};") for old, port in zip(README_NODES, nodes, strict=True)
    ]
    for old, new in swaps:
        assert config.count(old) == 1, f"the README's nginx config no longer has {old!r}"
        config = config.replace(old, new)
    return config


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if found is None:
        pytest.skip(
            "nginx is not installed (apt-get install nginx-light, or nginx; .ci/run installs "
            "it): the README's nginx configuration is not exercised"
        )
    return found


def main_config(prefix: Path, binary: str) -> str:
    """nginx.conf around the README's file: everything nginx writes stays under ``prefix``."""
    built = subprocess.run([binary, "-V"], capture_output=True, text=True, check=True).stderr
    temp = "\n".join(
        f"    {directive} {prefix / directive.removesuffix('_temp_path')};"
        for directive, module in TEMP_PATHS.items()
        if module is None or f"--without-{module}_module" not in built
    )
    # As root the workers would switch to nobody, who cannot enter pytest's 0700 temp dir.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 1;\npid {prefix / 'nginx.pid'};\n"
        f"error_log {prefix / 'error.log'} info;\n"
        "events { worker_connections 256; }\n"
        f"http {{\n    access_log {prefix / 'access.log'};\n{temp}\n"
        f"    include {prefix / 'wixhttp.conf'};\n}}\n"
    )


class Nginx:
    """nginx in the foreground (``daemon off``), as a child of this test."""

    def __init__(self, prefix: Path, site_config: str, port: int) -> None:
        binary = nginx_binary()
        prefix.mkdir()
        (prefix / "wixhttp.conf").write_text(site_config)
        (prefix / "nginx.conf").write_text(main_config(prefix, binary))
        self.prefix, self.port = prefix, port
        log = prefix / "error.log"
        self.process = subprocess.Popen(
            [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(log)]
            + ["-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while True:
            assert self.process.poll() is None, f"nginx exited: {self.log()}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, f"nginx did not listen: {self.log()}"
                time.sleep(0.05)

    def log(self) -> str:
        try:
            return (self.prefix / "error.log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish open requests
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def worker_children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (a node's worker processes)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


@dataclass
class Cluster:
    nginx: Nginx
    nodes: list[PlatformProcess]
    key: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.nginx.port}"


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    """Three nodes (one database, one data directory) behind the README's nginx."""
    nginx_binary()
    url = new_database()  # skips where no PostgreSQL answers
    monkeypatch.setenv("WIXHTTP_TRUSTED_PROXIES", "127.0.0.1")  # as the README says
    data = tmp_path / "data"
    nodes = [
        PlatformProcess(data, "--node-id", f"node{index}", database=url) for index in (1, 2, 3)
    ]
    nginx: Nginx | None = None
    try:
        with ThreadPoolExecutor(len(nodes)) as pool:  # together, as the README allows
            list(pool.map(lambda node: node.start(), nodes))
        port = free_port()
        config = with_ports(readme_nginx_config(), port, [node.port for node in nodes])
        nginx = Nginx(tmp_path / "nginx", config, port)
        yield Cluster(nginx, nodes, nodes[0].create_key())
    finally:
        if nginx is not None:
            nginx.stop()
        for node in nodes:
            node.stop()
        drop_database(url)


def test_three_nodes_behind_the_readmes_nginx_deploy_execute_and_serve(
    cluster: Cluster,
) -> None:
    base = cluster.url
    client = Client().set_endpoint(base + "/v1").set_project(PROJECT).set_key(cluster.key)
    functions = Functions(client)
    function_id = unique_id("nginx")
    functions.create(function_id, function_id, RUNTIME, execute=["any"])
    # Over 5 MB: the SDK uploads it in 5 MB chunks, more than nginx's default body limit.
    blob = os.urandom(6 * 1024 * 1024)
    bundle = make_bundle("executions", extra={"blob.bin": blob})
    assert len(bundle) > 5 * 1024 * 1024
    created = functions.create_deployment(
        function_id, InputFile.from_bytes(bundle, "code.tar.gz"), True
    )
    ready = wait_for_build(functions, function_id, created.id)
    assert ready.status.value == "ready", ready.buildlogs

    for index in range(6):  # two per node, round-robin
        execution = functions.create_execution(
            function_id, path=f"/_functions/echo?n={index}", method=ExecutionMethod.GET
        )
        assert execution.status.value == "completed", execution.errors
        assert execution.responsestatuscode == 200
        assert json.loads(execution.responsebody)["query"] == {"n": str(index)}
    for node in cluster.nodes:  # round-robin reached every node: each started its own worker
        assert node.process is not None and worker_children(node.process.pid), node.log()

    big = b"x" * (2 * 1024 * 1024)  # over nginx's default 1 MB limit
    with httpx.Client(base_url=base, timeout=30) as http:
        direct = http.post(
            f"/functions/{function_id}/_functions/echo?via=nginx",
            content=big,
            headers={"X-Forwarded-For": "203.0.113.7"},
        )
    assert direct.status_code == 200, direct.text
    echoed = direct.json()
    assert echoed["query"] == {"via": "nginx"}
    assert len(echoed["body"]) == len(big)
    # Host passes through nginx, and the caller's own X-Forwarded-For is replaced, not trusted.
    assert echoed["url"].startswith(f"{base}/functions/{function_id}/_functions/echo")
    assert echoed["ip"] == "127.0.0.1"
