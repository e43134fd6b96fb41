"""Ported from the Wix reference, `get()` example 2.

    import {ok, notFound, serverError} from 'wix-http-functions';
    import wixData from 'wix-data';

    // URL looks like:
    // https://www.mysite.com/_functions/myFunction/John/Doe
    export function get_myFunction(request) {
      let options = {
        "headers": {
          "Content-Type": "application/json"
        }
      };
      // query a collection to find matching items
      return wixData.query("myUsersCollection")
        .eq("firstName", request.path[0])
        .eq("lastName", request.path[1])
        .find()
        .then( (results) => {
          // matching items were found
          if(results.items.length > 0) {
            options.body = {
              "items": results.items
            };
            return ok(options);
          }
          // no matching items found
          options.body = {
            "error": `'${request.path[0]} ${request.path[1]}' was not found`
          };
          return notFound(options);
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

from wixhttp import notFound, ok, serverError


async def get_myFunction(request):
    options = {
        "headers": {
            "Content-Type": "application/json",
        }
    }
    try:
        # query a collection to find matching items
        results = (
            wix_data.query("myUsersCollection")
            .eq("firstName", request.path[0])
            .eq("lastName", request.path[1])
            .find()
        )
        # matching items were found
        if len(results.items) > 0:
            options["body"] = {"items": results.items}
            return ok(options)
        # no matching items found
        options["body"] = {"error": f"'{request.path[0]} {request.path[1]}' was not found"}
        return notFound(options)
    except Exception as error:  # something went wrong
        options["body"] = {"error": str(error)}
        return serverError(options)
