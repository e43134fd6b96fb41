"""Ported from the Wix reference, `badRequest()` example 2.

    // In http-functions.js
    import {badRequest} from 'wix-http-functions';

    export function use_myFunction(request) {
      let options = {
        body: {"error": "The request must contain the 'X' parameter."},
        headers: {
          "Content-Type": "application/json"
        }
      };
      return badRequest(options);
    }
"""

from wixhttp import badRequest


def use_myFunction(request):
    options = {
        "body": {"error": "The request must contain the 'X' parameter."},
        "headers": {
            "Content-Type": "application/json",
        },
    }
    return badRequest(options)
