"""The serving app: one FastAPI app, a router per product, each product's model hot-reloaded.

Add a product: write its router module with a `PRODUCT` (see `recommendations.py`), import it
here and append it to `PRODUCTS`.
"""

import gc
import logging
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ml_platform.serving import products, recommendations, similar_users, tweet_classifier
from ml_platform.serving.models import ModelNotReadyError, ModelRegistry, Product, response_key
from ml_platform.serving.settings import ServingSettings

PRODUCTS: tuple[Product, ...] = (
    recommendations.PRODUCT,
    products.PRODUCT,
    tweet_classifier.PRODUCT,
    similar_users.PRODUCT,
)

request_logger = logging.getLogger("ml_platform.serving.requests")
logger = logging.getLogger(__name__)


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, with a record's `fields` merged in, so log pipelines index
    method, path, status and duration without parsing text."""

    _second = -1
    _second_text = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """`logging.Formatter`'s default time text, with the strftime done once per second
        rather than once per request line."""
        if datefmt is not None or self.datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:
            self._second_text = time.strftime(self.default_time_format, self.converter(second))
            self._second = second
        return f"{self._second_text},{int(record.msecs):03d}"

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on stderr for the serving loggers; called by `ml-platform serve`, not on import,
    so embedding the app (tests, another server) keeps its own logging setup."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLogFormatter())
    serving = logging.getLogger("ml_platform.serving")
    serving.handlers[:] = [handler]
    serving.setLevel(level)
    serving.propagate = False


class RequestLogMiddleware:
    """Logs every request once it is answered. Pure ASGI rather than `BaseHTTPMiddleware`, which
    adds a task and a stream copy per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before responding

        async def send_and_remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_remember_status)
        finally:
            # Checked first: with the log off a request costs no record, dict or formatting.
            if request_logger.isEnabledFor(logging.INFO):
                fields = {
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                }
                request_logger.info("request", extra={"fields": fields})


class CachedResponses:
    """Answers a GET that a product's route already answered with 200 for the model version now
    served, from that model's `responses`, without routing, parameter validation or the model:
    about a third of the CPU of running the route (see benchmarks/serving.py). Anything not
    cached (first requests, errors, other methods and paths) goes to the app unchanged, so
    validation and the error contract are the routes' own."""

    def __init__(
        self, app: ASGIApp, registry: ModelRegistry, products: tuple[Product, ...]
    ) -> None:
        self.app = app
        self._registry = registry
        self._prefixes = [
            (product.cached_get_prefix, product.asset)
            for product in products
            if product.cached_get_prefix is not None
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path = scope["path"]
            for prefix, asset in self._prefixes:
                if path.startswith(prefix):
                    loaded = self._registry.loaded(asset)
                    content = loaded and loaded.responses.get(response_key(scope))
                    if content:
                        await send(
                            {
                                "type": "http.response.start",
                                "status": 200,
                                "headers": [
                                    (b"content-length", str(len(content)).encode()),
                                    (b"content-type", b"application/json"),
                                ],
                            }
                        )
                        await send({"type": "http.response.body", "body": content})
                        return
                    break
        await self.app(scope, receive, send)


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


class FastPosts:
    """Answers the POST routes a product registered in `fast_posts` with its handler: the body is
    read here, and a valid body gets the model's answer without FastAPI's routing, dependency and
    body machinery, which cost several times the model (see benchmarks/serving.py). A body the
    handler declines — invalid JSON, a field out of range, an unknown id — is replayed to the
    app unchanged, so every error still comes from the route and its 422/404 contract."""

    def __init__(
        self, app: ASGIApp, registry: ModelRegistry, products: tuple[Product, ...]
    ) -> None:
        self.app = app
        self._registry = registry
        self._handlers = {
            path: (product.asset, handler)
            for product in products
            for path, handler in product.fast_posts.items()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = (
            self._handlers.get(scope["path"])
            if scope["type"] == "http" and scope["method"] == "POST"
            else None
        )
        loaded = route and self._registry.loaded(route[0])
        if not loaded or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        content = route[1](body, loaded)
        if content is not None:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-length", str(len(content)).encode()),
                        (b"content-type", b"application/json"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": content})
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _model_not_ready(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=503, headers={"Retry-After": "5"})


async def _invalid_request(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422 shape, except that the rejected input is echoed so that it always encodes:
    bytes that are not UTF-8 with replacement characters, NaN and ±Infinity as text. FastAPI's
    own handler answers the first with a 500, and JSON has no literal for the others."""
    assert isinstance(error, RequestValidationError)
    detail = jsonable_encoder(
        error.errors(),
        custom_encoder={
            bytes: lambda raw: raw.decode("utf-8", "replace"),
            float: lambda number: number if math.isfinite(number) else str(number),
        },
    )
    return JSONResponse({"detail": detail}, status_code=422)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    """A bug of ours, never the caller's input: logged with its traceback, answered without it."""
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "internal error, logged on the server"}, status_code=500)


def create_app(settings: ServingSettings | None = None) -> FastAPI:
    """The app over `settings` (by default those of `$ML_PLATFORM_ENV`). Models load in the
    background once the app starts, so `/healthz` answers at once and `/readyz` says when to
    send traffic."""
    settings = settings or ServingSettings.from_environment()
    registry = ModelRegistry(settings.object_store, PRODUCTS, settings.reload_interval_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The imports leave ~200,000 objects the cyclic GC would traverse in every full
        # collection, ~100 ms each, stalling every request in flight (the p99 of the serving
        # benchmarks). Frozen, they are never traversed; the registry freezes each model too.
        gc.collect()
        gc.freeze()
        registry.start()
        try:
            yield
        finally:
            registry.stop()

    app = FastAPI(
        title="ml_platform serving",
        description="Predictions from the models the Dagster assets materialized.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.models = registry
    # Added last, so outermost: the log covers the cached and fast answers too.
    app.add_middleware(FastPosts, registry=registry, products=PRODUCTS)
    app.add_middleware(CachedResponses, registry=registry, products=PRODUCTS)
    app.add_middleware(RequestLogMiddleware)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(ModelNotReadyError, _model_not_ready)
    app.add_exception_handler(Exception, _unexpected)
    for product in PRODUCTS:
        app.include_router(product.router)

    @app.get("/healthz", tags=["operations"])
    async def health() -> dict[str, str]:
        """The process is up and answering; says nothing about models (see /readyz)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    async def readiness() -> JSONResponse:
        """200 with each model's version (null: none stored yet) once every stored model is
        loaded, 503 before."""
        ready = registry.ready()
        return JSONResponse(
            {"status": "ready" if ready else "loading", "models": registry.versions()},
            status_code=200 if ready else 503,
        )

    return app


def create_logged_app() -> FastAPI:
    """`create_app()` with the JSON request log configured, for servers that import the app by
    name, e.g. several worker processes:
    `uvicorn ml_platform.serving.app:create_logged_app --factory --workers 2 --no-access-log`."""
    configure_logging()
    return create_app()
