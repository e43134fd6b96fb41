"""Two sites with a helper module of the same name (helper.py), loaded in one process."""

import helper

from wixhttp import ok


def get_who(request):
    return ok(body={"who": helper.WHO, "helper_file": helper.__file__})
