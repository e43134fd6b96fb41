"""Ported from the Wix reference, `notFound()` example 2.

    // In http-functions.js
    import {notFound} from 'wix-http-functions';

    export function use_myFunction(request) {
      let options = {
        body: {"error": "not found"},
        headers: {
          "Content-Type": "application/json"
        }
      };
      return notFound(options);
    }
"""

from wixhttp import notFound


def use_myFunction(request):
    options = {
        "body": {"error": "not found"},
        "headers": {
            "Content-Type": "application/json",
        },
    }
    return notFound(options)
