"""Ported from the Wix reference, `put()` example 1.

    import {ok} from 'wix-http-functions';

    // URL looks like:
    // https://www.mysite.com/_functions/myFunction/
    export function put_myFunction(request) {
      return request.body.text()
        .then( (body) => {
          // update the info from the body somewhere
          return ok();
        } );
    }
"""

from wixhttp import ok


async def put_myFunction(request):
    body = await request.body.text()
    # update the info from the body somewhere
    assert isinstance(body, str)
    return ok()
