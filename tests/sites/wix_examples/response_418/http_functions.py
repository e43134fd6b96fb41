"""Ported from the Wix reference, `response()` example 2.

    // In http-functions.js
    import {response} from 'wix-http-functions';

    export function use_myFunction(request) {
      let options = {
        status: 418,
        body: {
          "key1": "value1",
          "key2": "value2"
        },
        headers: {
          "Content-Type": "application/json"
        }
      };
      return response(options);
    }
"""

from wixhttp import response


def use_myFunction(request):
    options = {
        "status": 418,
        "body": {
            "key1": "value1",
            "key2": "value2",
        },
        "headers": {
            "Content-Type": "application/json",
        },
    }
    return response(options)
