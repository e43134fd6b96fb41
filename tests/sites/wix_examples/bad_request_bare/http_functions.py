"""Ported from the Wix reference, `badRequest()` example 1.

    // In http-functions.js
    import {badRequest} from 'wix-http-functions';

    export function use_myFunction(request) {
      return badRequest();
    }
"""

from wixhttp import badRequest


def use_myFunction(request):
    return badRequest()
