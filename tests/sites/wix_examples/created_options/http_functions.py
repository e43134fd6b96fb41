"""Ported from the Wix reference, `created()` example 2.

    // In http-functions.js
    import {created} from 'wix-http-functions';

    export function use_myFunction(request) {
      let options = {
        body: {"key1": "value1", "key2": "value2"},
        headers: {
          "Content-Type": "application/json"
        }
      };
      return created(options);
    }
"""

from wixhttp import created


def use_myFunction(request):
    options = {
        "body": {"key1": "value1", "key2": "value2"},
        "headers": {
            "Content-Type": "application/json",
        },
    }
    return created(options)
