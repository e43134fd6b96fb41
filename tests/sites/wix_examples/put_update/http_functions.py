"""Ported from the Wix reference, `put()` example 2 (its body key really is "inserted").

    import {ok, serverError} from 'wix-http-functions';
    import wixData from 'wix-data';

    // URL looks like:
    // https://www.mysite.com/_functions/myFunction/
    export function put_myFunction(request) {
      let options = {
        "headers": {
          "Content-Type": "application/json"
        }
      };
      // get the request body
      return request.body.json()
      .then( (body) => {
          // update the item in a collection
          return wixData.update("myCollection", body);
        } )
        .then( (results) => {
          options.body = {
            "inserted": results
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


def put_myFunction(request):
    options = {
        "headers": {
            "Content-Type": "application/json",
        }
    }
    try:
        # get the request body
        body = request.body.json()
        # update the item in a collection
        results = wix_data.update("myCollection", body)
        options["body"] = {"inserted": results}
        return ok(options)
    except Exception as error:  # something went wrong
        options["body"] = {"error": str(error)}
        return serverError(options)
