"""Ported from the Wix reference, `options()` example 1.

    import {response} from 'wix-http-functions';

    // URL looks like:
    // https://www.mysite.com/_functions/myFunction/

    export function options_myFunction(request) {
      let headers = {
          "Access-Control-Allow-Origin": "https://www.example.com",
          "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
          "Access-Control-Max-Age": "86400"
      }
      return response({"status": 204, "headers": headers});
    }
"""

from wixhttp import response


def options_myFunction(request):
    headers = {
        "Access-Control-Allow-Origin": "https://www.example.com",
        "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
        "Access-Control-Max-Age": "86400",
    }
    return response({"status": 204, "headers": headers})
