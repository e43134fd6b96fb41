"""Ported from the Wix reference, `delete()` example 1.

    import {ok} from 'wix-http-functions';

    // URL looks like:
    // https://www.mysite.com/_functions/myFunction/someId
    export function delete_myFunction(request) {

      const toRemove = request.path[0];

      // remove the resource

      return ok();
    }
"""

from wixhttp import ok


def delete_myFunction(request):
    to_remove = request.path[0]

    # remove the resource
    assert to_remove

    return ok()
