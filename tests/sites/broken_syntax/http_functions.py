from wixhttp import ok

def get_broken(request)
    return ok()
