"""Ported from the Wix reference, `ok()` example 1.

    // In http-functions.js
    import {ok} from 'wix-http-functions';

    export function use_myFunction(request) {
      return ok();
    }
"""

from wixhttp import ok


def use_myFunction(request):
    return ok()
