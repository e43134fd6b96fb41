"""Ported from the Wix reference, `created()` example 1.

    // In http-functions.js
    import {created} from 'wix-http-functions';

    export function use_myFunction(request) {
      return created();
    }
"""

from wixhttp import created


def use_myFunction(request):
    return created()
