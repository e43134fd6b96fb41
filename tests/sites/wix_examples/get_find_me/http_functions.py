"""Ported from the Wix reference, `get()` example 1.

    import {ok, notFound} from 'wix-http-functions';

    // URL looks like:
    // https://www.mysite.com/_functions/myFunction/findMe
    export function get_myFunction(request) {
      if(request.path[0] === "findMe") {
        const body = "Found it!";
        return ok({body: body});
      }

      const body = "Can't find it!";
      return notFound({body: body});
    }

(`request.path[0]` is `undefined` in JavaScript for an empty path; `request.path[:1]` keeps that.)
"""

from wixhttp import notFound, ok


def get_myFunction(request):
    if request.path[:1] == ["findMe"]:
        body = "Found it!"
        return ok({"body": body})

    body = "Can't find it!"
    return notFound({"body": body})
