"""``wixhttp serve --workers N``: uvicorn's worker supervisor, surviving any worker exit.

uvicorn reads a worker's exit code 3 as "failed to start" and stops the whole server (the app
would fail the same way on every restart). A handler calling ``os._exit(3)`` then took the site
down. Here each worker marks itself serving once its app is loaded (:func:`mark_serving`), and
only a worker that never got that far stops the server with code 3; any other exit is logged
and the worker replaced.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from uvicorn import Config
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

__all__ = ["SERVING_ENV", "Supervisor", "mark_serving", "run_workers"]

#: The folder where workers mark themselves serving (one empty file per process id).
SERVING_ENV = "WIXHTTP_SERVING_DIR"

log = logging.getLogger("wixhttp.error")


def mark_serving() -> None:
    """In a worker: say that its app loaded, so that any later exit is a crash to recover."""
    folder = os.environ.get(SERVING_ENV)
    if folder:
        Path(folder, str(os.getpid())).touch()


class Supervisor(Multiprocess):
    """uvicorn's :class:`~uvicorn.supervisors.multiprocess.Multiprocess`, except that a worker
    that served and then exited is replaced whatever its exit code."""

    def __init__(self, config: Config, sockets: list[Any], marks: Path) -> None:
        super().__init__(config, sockets)
        self.marks = marks

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for index, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # hung, or already gone
            process.join()
            mark = self.marks / str(process.pid)
            served = mark.exists()
            mark.unlink(missing_ok=True)
            if process.exitcode == STARTUP_FAILURE and not served:
                log.error("worker [%s] failed to start; stopping the server", process.pid)
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            log.error(
                "worker [%s] exited (code %s) while serving; starting a new one",
                process.pid,
                process.exitcode,
            )
            replacement = Process(self.config, self.sockets)
            replacement.start()
            self.processes[index] = replacement


def run_workers(app: str, **options: Any) -> None:
    """What ``uvicorn.run(app, workers=N, ...)`` does, under :class:`Supervisor`."""
    config = Config(app, **options)
    sock = config.bind_socket()
    with tempfile.TemporaryDirectory(prefix="wixhttp-workers-") as marks:
        os.environ[SERVING_ENV] = marks  # the workers (spawned processes) inherit it
        try:
            Supervisor(config, [sock], Path(marks)).run()
        finally:
            if config.uds and os.path.exists(config.uds):
                os.remove(config.uds)
