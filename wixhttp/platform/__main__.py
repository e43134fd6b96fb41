"""``python -m wixhttp.platform --data DIR --host HOST --port PORT``"""

from wixhttp.platform.cli import platform_command

if __name__ == "__main__":  # pragma: no cover - the platform process
    platform_command(prog_name="python -m wixhttp.platform")
