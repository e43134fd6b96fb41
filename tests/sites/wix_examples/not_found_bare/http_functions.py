"""Ported from the Wix reference, `notFound()` example 1.

    // In http-functions.js
    import {notFound} from 'wix-http-functions';

    export function use_myFunction(request) {
      return notFound();
    }
"""

from wixhttp import notFound


def use_myFunction(request):
    return notFound()
