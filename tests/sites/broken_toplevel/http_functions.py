"""A site that raises while importing (line 6, inside a function called at top level)."""
from wixhttp import ok


def _read_config():
    raise RuntimeError("API_KEY is not configured")


CONFIG = _read_config()


def get_never(request):
    return ok()
