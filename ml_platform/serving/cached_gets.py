"""Repeated GETs answered from the served model's response cache, before FastAPI sees them.

A product's GET routes store their 200 answers in the loaded model's `responses` (see
`models.cached_json`); this ASGI wrapper answers a later GET with the same path and query from
those bytes, without routing, parameter validation or the model. Everything else — first
requests, other methods and paths, a product whose model is not loaded — goes to the wrapped app
untouched, so validation and the 4xx contract stay the routes' own. A cached answer costs a dict
lookup, where FastAPI's middleware stack, routing and parameter validation cost more than the
models' arithmetic (see benchmarks/serving.py).
"""

from collections.abc import Iterable

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from ml_platform.serving.models import ModelRegistry, Product, response_key

JSON_HEADERS = [(b"content-type", b"application/json")]


async def send_json(send: Send, status: int, content: bytes) -> None:
    """A whole JSON response in two ASGI messages."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-length", str(len(content)).encode()), *JSON_HEADERS],
        }
    )
    await send({"type": "http.response.body", "body": content})


class CachedGets:
    """`app`, with the GETs under a product's `cached_get_prefix` that its route already answered
    for the model version now served answered from memory. A cache hit puts the route that
    first answered it in the scope, as routing does, for the metrics."""

    def __init__(self, app: ASGIApp, registry: ModelRegistry, products: Iterable[Product]) -> None:
        self._app = app
        self._registry = registry
        self._prefixes = [
            (product.cached_get_prefix, product.asset)
            for product in products
            if product.cached_get_prefix is not None
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            cached = self._cached(scope)
            if cached is not None:
                content, scope["route"] = cached
                await send_json(send, 200, content)
                return
        await self._app(scope, receive, send)

    def _cached(self, scope: Scope) -> tuple[bytes, BaseRoute] | None:
        path = scope["path"]
        for prefix, asset in self._prefixes:
            if path.startswith(prefix):
                loaded = self._registry.loaded(asset)
                return loaded.responses.get(response_key(scope)) if loaded else None
        return None
