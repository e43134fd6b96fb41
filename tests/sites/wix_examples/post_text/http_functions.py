"""Ported from the Wix reference, `post()` example 1.

    import {created} from 'wix-http-functions';

    // URL looks like:
    // https://www.mysite.com/_functions/myFunction/
    export function post_myFunction(request) {
      return request.body.text()
        .then( (body) => {
          // insert the info from the body somewhere
          return created();
        } );
    }
"""

from wixhttp import created


def post_myFunction(request):
    body = request.body.text()  # a plain def gets the text directly
    # insert the info from the body somewhere
    assert isinstance(body, str)
    return created()
