"""The requests a loaded model answers from memory, before FastAPI sees them.

Two kinds, both registered by the products (`Product` in `models.py`):
- a GET under a product's `cached_get_prefix` that its route already answered with 200 for the
  model version now served: the stored bytes, without routing, parameter validation or the model;
- a POST to one of a product's `fast_posts` with a JSON body its handler accepts: the handler's
  answer, without FastAPI's routing, dependency and body machinery.

Everything else — first requests, other methods and paths, bodies a handler declines (invalid
JSON, a field out of range, an unknown id) — goes to the FastAPI app intact, a read body replayed
byte for byte, so validation and the 4xx contract stay the routes' own. At a few hundred
microseconds per request, FastAPI's middleware stack, routing and body handling cost more than
the models' arithmetic (see benchmarks/serving.py).
"""

from starlette.types import Message, Receive, Scope

from ml_platform.serving.models import ModelRegistry, Product, response_key


def _is_json(scope: Scope) -> bool:
    """A JSON content type (`application/json` or `application/…+json`): the bodies FastAPI
    parses as JSON. Without one it answers 422 (strict content type), so those go to it."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            media = value.split(b";")[0].strip().lower()
            return media == b"application/json" or (
                media.startswith(b"application/") and media.endswith(b"+json")
            )
    return False


class FastAnswers:
    """Answers what it can of `products`' requests from the models in `registry`."""

    def __init__(self, registry: ModelRegistry, products: tuple[Product, ...]) -> None:
        self._registry = registry
        self._get_prefixes = [
            (product.cached_get_prefix, product.asset)
            for product in products
            if product.cached_get_prefix is not None
        ]
        self._post_handlers = {
            path: (product.asset, handler)
            for product in products
            for path, handler in product.fast_posts.items()
        }

    async def answer(self, scope: Scope, receive: Receive) -> tuple[bytes | None, Receive | None]:
        """The 200 body of an HTTP request answered here; otherwise None and the `receive` that
        hands the request on (its body replayed when it was read here), or None and None when
        the client went away while sending it."""
        method = scope["method"]
        if method == "GET":
            return self._cached(scope), receive
        if method == "POST":
            return await self._posted(scope, receive)
        return None, receive

    def _cached(self, scope: Scope) -> bytes | None:
        path = scope["path"]
        for prefix, asset in self._get_prefixes:
            if path.startswith(prefix):
                loaded = self._registry.loaded(asset)
                return loaded.responses.get(response_key(scope)) if loaded else None
        return None

    async def _posted(self, scope: Scope, receive: Receive) -> tuple[bytes | None, Receive | None]:
        route = self._post_handlers.get(scope["path"])
        loaded = route and self._registry.loaded(route[0])
        if not loaded or not _is_json(scope):
            return None, receive
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return None, None
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        content = route[1](body, loaded)
        if content is not None:
            return content, receive
        return None, _replay(body, receive)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` giving the whole `body` again, then whatever `receive` gives."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
