"""A site importing a module that does not exist (line 4)."""
from wixhttp import ok

import wixhttp_no_such_module_for_tests


def get_never(request):
    return ok()
