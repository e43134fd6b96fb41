"""Ported from the Wix reference, `delete()` example 2.

    import {ok, serverError} from 'wix-http-functions';
    import wixData from 'wix-data';

    // URL looks like:
    // https://www.mysite.com/_functions/myFunction/76bf-8bfa-714
    export function delete_myFunction(request) {
      let options = {
        "headers": {
          "Content-Type": "application/json"
        }
      };
      // delete the item from a collection
      return wixData.remove("myCollection", request.path[0])
        .then( (results) => {
          options.body = {
            "deleted": results
          };
          return ok(options);
        } )
        // something went wrong
        .catch( (error) => {
          options.body = {
            "error": error
          };
          return serverError(options);
        } );
    }
"""

import wix_data

from wixhttp import ok, serverError


async def delete_myFunction(request):
    options = {
        "headers": {
            "Content-Type": "application/json",
        }
    }
    try:
        # delete the item from a collection
        results = wix_data.remove("myCollection", request.path[0])
        options["body"] = {"deleted": results}
        return ok(options)
    except Exception as error:  # something went wrong
        options["body"] = {"error": str(error)}
        return serverError(options)
