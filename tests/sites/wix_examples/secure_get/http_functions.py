"""Ported from the Wix reference introduction ("Keep Your Site Secure").

    import {ok, badRequest} from 'wix-http-functions';
    import {getSecret} from 'wix-secrets-backend';

    async function isPermitted(headers){
      try{
        const authHeader = headers.auth;
        const sharedAuthKey = await getSecret('secretEmail');
        if (authHeader === sharedAuthKey) {
          return true;
        }
        return false;
      }
      catch(err){
        console.error(err);
        return false
      }
    }

    export async function get_functionName(request) {
      const headers = request.headers;
      if (!await isPermitted(headers)) {
        let options = {
          body: {
            error: 'Not authorized',
          },
          headers: {
            'Content-Type': 'application/json'
          }
        };
        return badRequest(options);
      }
      // Code for authorized requests...

      const response = {
        headers: {
          'Content-Type': 'application/json'
        }
      };
      response.body = {
        results : result
      };
      return ok(response);
    }

(`result` is undefined in the documented example; the port returns a fixed result.)
"""

import logging

from wix_secrets_backend import get_secret

from wixhttp import badRequest, ok

log = logging.getLogger(__name__)


async def _is_permitted(headers):
    try:
        auth_header = headers.get("auth")
        shared_auth_key = await get_secret("secretEmail")
        if auth_header == shared_auth_key:
            return True
        return False
    except Exception as err:
        log.error("%s", err)
        return False


async def get_functionName(request):
    headers = request.headers
    if not await _is_permitted(headers):
        options = {
            "body": {
                "error": "Not authorized",
            },
            "headers": {
                "Content-Type": "application/json",
            },
        }
        return badRequest(options)
    # Code for authorized requests...
    result = ["the", "results"]
    response = {
        "headers": {
            "Content-Type": "application/json",
        }
    }
    response["body"] = {"results": result}
    return ok(response)
