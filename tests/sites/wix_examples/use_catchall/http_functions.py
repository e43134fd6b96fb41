"""Ported from the Wix reference, `use()` example.

    import {ok} from 'wix-http-functions';

    export function use_myFunction(request) {

      const method = request.method;

      // ...

      return ok();
    }

(The port puts the method in a header so a test can see which request the handler served.)
"""

from wixhttp import ok


def use_myFunction(request):
    method = request.method

    # ...

    return ok({"headers": {"X-Method": method}})
