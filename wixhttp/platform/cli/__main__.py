"""``python -m wixhttp.platform.cli``: the ``platform`` command."""

import sys

from wixhttp.platform.cli import platform_command

sys.exit(platform_command())
