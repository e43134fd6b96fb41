"""Ported from the Wix reference, `ok()` example 2.

    // In http-functions.js
    import {ok} from 'wix-http-functions';

    export function use_myFunction(request) {
      let options = {
        body: {"key1": "value1", "key2": "value2"},
        headers: {
          "Content-Type": "application/json"
        }
      };
      return ok(options);
    }
"""

from wixhttp import ok


def use_myFunction(request):
    options = {
        "body": {"key1": "value1", "key2": "value2"},
        "headers": {
            "Content-Type": "application/json",
        },
    }
    return ok(options)
