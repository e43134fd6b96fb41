"""Ported from the Wix reference, `options()` example 2 (validates the origin).

    import {response} from 'wix-http-functions';

    // URL looks like:
    // https://www.mysite.com/_functions/myFunction/

    export function options_myFunction(request) {
      let headers = {
          "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
          "Access-Control-Max-Age": "86400"
      }

      // send allowed origin header only if origin
      // is validated by some validation function
      if(validate(request.headers.origin)) {
        headers["Access-Control-Allow-Origin"] = request.headers.origin;
      }

      return response({"status": 204, "headers": headers});
    }

(`validate()` is "a function that you must define"; this one allows a fixed list.)
"""

from wixhttp import response

ALLOWED_ORIGINS = {"https://www.example.com", "https://shop.example.com"}


def validate(origin):
    return origin in ALLOWED_ORIGINS


def options_myFunction(request):
    headers = {
        "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
        "Access-Control-Max-Age": "86400",
    }

    # send allowed origin header only if origin
    # is validated by some validation function
    if validate(request.headers.get("origin")):
        headers["Access-Control-Allow-Origin"] = request.headers["origin"]

    return response({"status": 204, "headers": headers})
