"""Ported from the Wix reference, `response()` example 1.

    // In http-functions.js
    import {response} from 'wix-http-functions';

    export function use_myFunction(request) {
      return response();
    }
"""

from wixhttp import response


def use_myFunction(request):
    return response()
