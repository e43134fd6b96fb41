"""``python -m wixhttp`` is the ``wixhttp`` command."""

from wixhttp.cli import main

main()
