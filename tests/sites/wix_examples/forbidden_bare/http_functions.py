"""Ported from the Wix reference, `forbidden()` example 1.

    // In http-functions.js
    import {forbidden} from 'wix-http-functions';

    export function use_myFunction(request) {
      return forbidden();
    }
"""

from wixhttp import forbidden


def use_myFunction(request):
    return forbidden()
