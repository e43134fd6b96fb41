"""The Appwrite (open-runtimes) Python runtime contract, served by a worker.

A deployment whose entrypoint defines ``main(context)`` runs as it would on Appwrite: the
entrypoint is imported as part of its package (:mod:`.loader`), each request becomes a
``context`` (:mod:`.context`) and what ``main`` returns becomes the HTTP response (:mod:`.app`).
"""

from wixhttp.platform.runtime.app import RuntimeApp
from wixhttp.platform.runtime.context import Context, Request, Response
from wixhttp.platform.runtime.loader import load_main

__all__ = ["Context", "Request", "Response", "RuntimeApp", "load_main"]
