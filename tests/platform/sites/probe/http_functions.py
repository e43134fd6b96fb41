"""A function that tries to reach what isolation must keep from it, and says what it reached.

Each check answers "reached" or "refused: <why>". Paths are found from the worker's own code
folder (``<data>/functions/<function>/<deployment>/code``) and socket (``--uds``)."""

import os
import signal
import socket
from pathlib import Path

from wixhttp import ok

CODE = Path(__file__).resolve().parent
DATA = CODE.parents[3]


def _try(action):
    try:
        action()
    except Exception as exc:  # noqa: BLE001 - what stopped it is the answer
        return f"refused: {type(exc).__name__}"
    return "reached"


def _read(path):
    with open(path, "rb") as file:
        file.read(1)


def _other_code():
    mine = CODE.parents[1].name
    others = [p for p in (DATA / "functions").iterdir() if p.name != mine]
    files = [f for p in others for f in p.rglob("http_functions.py")]
    if not files:
        raise FileNotFoundError("no other function's code")
    _read(files[0])


def _other_pids():
    mine = {os.getpid(), os.getppid(), 1}
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in mine]
    visible = [p for p in pids if os.path.exists(f"/proc/{p}/cmdline")]
    if not any(b"wixhttp" in open(f"/proc/{p}/cmdline", "rb").read() for p in visible):
        raise LookupError("no other wixhttp process visible")


def _other_socket():
    args = open("/proc/self/cmdline", "rb").read().split(b"\0")
    own = Path(args[args.index(b"--uds") + 1].decode())
    pool = own.parent.parent
    sockets = [p / "s.sock" for p in pool.iterdir() if p != own.parent]
    if not sockets:
        raise FileNotFoundError("no other worker's socket")
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(str(sockets[0]))


def _call_other_worker():
    args = open("/proc/self/cmdline", "rb").read().split(b"\0")
    own = Path(args[args.index(b"--uds") + 1].decode())
    sockets = [p / "s.sock" for p in own.parent.parent.iterdir() if p != own.parent]
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(str(sockets[0]))
        conn.sendall(b"GET /_functions/hello HTTP/1.1\r\nhost: worker\r\n\r\n")
        status = conn.recv(4096).split(b"\r\n")[0]
    if b" 200 " not in status:
        raise PermissionError(status.decode())


def _write(path):
    with open(path, "w") as file:
        file.write("x")
    os.unlink(path)


def get_probe(request):
    platform_pid = int(request.query.get("pid", "0"))
    checks = {
        "database": lambda: _read(DATA / "platform.db"),
        "other_code": _other_code,
        "platform_environ": lambda: _read(f"/proc/{platform_pid}/environ"),
        "other_processes": _other_pids,
        "other_socket": _other_socket,
        "signal_platform": lambda: os.kill(platform_pid, signal.SIGCONT),
        "write_code": lambda: _write(CODE / "written.txt"),
        "write_data": lambda: _write(DATA / "written.txt"),
    }
    results = {name: _try(check) for name, check in checks.items()}
    results["other_worker_call"] = _try(_call_other_worker)
    results["tmp_writable"] = _try(lambda: _write("/tmp/probe.txt"))
    results["uid"] = os.getuid()
    return ok(body=results)
