"""Ported from the Wix reference, `serverError()` example 2.

    // In http-functions.js
    import {serverError} from 'wix-http-functions';

    export function use_myFunction(request) {
      let options = {
        body: {"error": "internal server error"},
        headers: {
          "Content-Type": "application/json"
        }
      };
      return serverError(options);
    }
"""

from wixhttp import serverError


def use_myFunction(request):
    options = {
        "body": {"error": "internal server error"},
        "headers": {
            "Content-Type": "application/json",
        },
    }
    return serverError(options)
