"""Ported from the Wix reference, `serverError()` example 1.

    // In http-functions.js
    import {serverError} from 'wix-http-functions';

    export function use_myFunction(request) {
      return serverError(options);
    }

The documented example passes an `options` it never defines (a ReferenceError in JavaScript);
the port calls the helper without options, which is what the example means.
"""

from wixhttp import serverError


def use_myFunction(request):
    return serverError()
