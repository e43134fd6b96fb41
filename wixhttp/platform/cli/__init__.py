"""The platform's commands: ``platform`` (server), ``keys``, ``deploy``/``publish`` (deploy),
``executions``/``logs`` (executions); shared options and the API client in ``common``.

Registered into the main ``wixhttp`` group by :mod:`wixhttp.cli` (lazily, by these names). Thin:
parse, call, print. Secrets are printed once, by ``keys create``, and never logged.
"""

from __future__ import annotations

from wixhttp.platform.cli.deploy import deploy_command, publish_command
from wixhttp.platform.cli.executions import executions_command, logs_command
from wixhttp.platform.cli.keys import keys_group
from wixhttp.platform.cli.server import platform_command

__all__ = [
    "deploy_command",
    "executions_command",
    "keys_group",
    "logs_command",
    "platform_command",
    "publish_command",
]
