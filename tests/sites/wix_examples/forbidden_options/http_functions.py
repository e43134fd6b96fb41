"""Ported from the Wix reference, `forbidden()` example 2.

    // In http-functions.js
    import {forbidden} from 'wix-http-functions';

    export function use_myFunction(request) {
      let options = {
        body: {"error": "forbidden"},
        headers: {
          "Content-Type": "application/json"
        }
      };
      return forbidden(options);
    }
"""

from wixhttp import forbidden


def use_myFunction(request):
    options = {
        "body": {"error": "forbidden"},
        "headers": {
            "Content-Type": "application/json",
        },
    }
    return forbidden(options)
