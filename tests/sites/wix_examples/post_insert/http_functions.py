"""Ported from the Wix reference, `post()` example 2.

    import {created, serverError} from 'wix-http-functions';
    import wixData from 'wix-data';

    // URL looks like:
    // https://www.mysite.com/_functions/myFunction/
    export function post_myFunction(request) {
      let options = {
        "headers": {
          "Content-Type": "application/json"
        }
      };
      // get the request body
      return request.body.json()
      .then( (body) => {
          // insert the item in a collection
          return wixData.insert("myCollection", body);
        } )
        .then( (results) => {
          options.body = {
            "inserted": results
          };
          return created(options);
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

from wixhttp import created, serverError


async def post_myFunction(request):
    options = {
        "headers": {
            "Content-Type": "application/json",
        }
    }
    try:
        # get the request body
        body = await request.body.json()
        # insert the item in a collection
        results = wix_data.insert("myCollection", body)
        options["body"] = {"inserted": results}
        return created(options)
    except Exception as error:  # something went wrong (malformed JSON included)
        options["body"] = {"error": str(error)}
        return serverError(options)
