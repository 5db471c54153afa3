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
from typing import Any

import orjson
from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ml_platform.core.http_metrics import HttpMetrics
from ml_platform.serving import products, recommendations, similar_users, tweet_classifier
from ml_platform.serving.cached_gets import CachedGets, send_json
from ml_platform.serving.docs import add_offline_docs
from ml_platform.serving.models import ModelMetrics, ModelNotReadyError, ModelRegistry, Product
from ml_platform.serving.settings import MAX_BODY_BYTES, ServingSettings

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
            "pid": record.process,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on stderr for the serving loggers; called by `ml-platform serve`, not on import,
    so embedding the app (tests, another server) keeps its own logging setup."""
    # A line per request: skip what each record would otherwise look up and the JSON never
    # shows (the caller's frame, thread and multiprocessing names), as the logging HOWTO's
    # "Optimization" section describes.
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLogFormatter())
    serving = logging.getLogger("ml_platform.serving")
    serving.handlers[:] = [handler]
    serving.setLevel(level)
    serving.propagate = False


def _log_request(scope: Scope, status: int, seconds: float) -> None:
    # Checked first: with the log off a request costs no record, dict or formatting.
    if request_logger.isEnabledFor(logging.INFO):
        fields = {
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
        }
        request_logger.info("request", extra={"fields": fields})


_INTERNAL_ERROR = b'{"detail":"internal error, logged on the server"}'


class BodyTooLargeError(HTTPException):
    """A request body over the app's limit: 413. An `HTTPException`, so that FastAPI's body
    parsing passes it on as it is rather than as a 400 "error parsing the body"."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _limited(receive: Receive, limit: int) -> Receive:
    """`receive`, raising `BodyTooLargeError` once the body read exceeds `limit` bytes (a
    chunked body declares no length up front)."""
    read = 0

    async def limited() -> Message:
        nonlocal read
        message = await receive()
        if message["type"] == "http.request":
            read += len(message.get("body", b""))
            if read > limit:
                raise BodyTooLargeError(limit)
        return message

    return limited


class ServingApp(FastAPI):
    """FastAPI, with what every HTTP request needs done outside its middleware stack: a body
    declared over the limit refused before anything reads it, the request logged and counted in
    `metrics` once answered, and repeated GETs answered from the served model's response cache (`CachedGets`, the
    outermost layer of the stack), which skips FastAPI's middleware, routing and validation —
    most of such a request's cost (see benchmarks/serving.py)."""

    def __init__(
        self,
        registry: ModelRegistry,
        products: tuple[Product, ...],
        max_body_bytes: int = MAX_BODY_BYTES,
        **settings: Any,
    ) -> None:
        super().__init__(**settings)
        self.state.models = registry
        self.products = products
        self.max_body_bytes = max_body_bytes
        self.metrics = HttpMetrics("ml_platform_serving", [ModelMetrics(registry)])

    def build_middleware_stack(self) -> ASGIApp:
        return CachedGets(super().build_middleware_stack(), self.state.models, self.products)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before responding

        async def send_and_remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            declared = _declared_length(scope)
            if declared is not None and declared > self.max_body_bytes:
                too_large = BodyTooLargeError(self.max_body_bytes)
                await send_json(
                    send_and_remember_status, 413, orjson.dumps({"detail": too_large.detail})
                )
                return
            receive = _limited(receive, self.max_body_bytes)
            await super().__call__(scope, receive, send_and_remember_status)
        finally:
            seconds = time.perf_counter() - started
            self.metrics.observe(scope, status, seconds)
            _log_request(scope, status, seconds)


async def _model_not_ready(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=503, headers={"Retry-After": "5"})


async def _invalid_request(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422 shape, except that the rejected input is echoed so that it always encodes:
    bytes that are not UTF-8 with replacement characters, lone surrogates (from `\\ud800`
    escapes) as their escape text, NaN and ±Infinity as text. FastAPI's own handler answers
    the first two with a 500, and JSON has no literal for the others."""
    assert isinstance(error, RequestValidationError)
    detail = jsonable_encoder(
        error.errors(),
        custom_encoder={
            bytes: lambda raw: raw.decode("utf-8", "replace"),
            str: lambda text: text.encode("utf-8", "backslashreplace").decode(),
            float: lambda number: number if math.isfinite(number) else str(number),
        },
    )
    return JSONResponse({"detail": detail}, status_code=422)


async def _unexpected(request: Request, error: Exception) -> Response:
    """A bug of ours, never the caller's input: logged with its traceback, answered without it."""
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return Response(_INTERNAL_ERROR, status_code=500, media_type="application/json")


# The errors every product route may answer besides FastAPI's own 422, documented in the
# OpenAPI schema so that clients (and the schemathesis fuzz in the tests) know them.
PRODUCT_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "a body that is not JSON the route can parse"},
    404: {"description": "an id (user, product, model version) the served model does not know"},
    413: {"description": "a request body over the server's limit"},
    503: {"description": "the product's model is not loaded (yet), with the reason"},
}


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

    app = ServingApp(
        registry,
        PRODUCTS,
        max_body_bytes=settings.max_body_bytes,
        title="ml_platform serving",
        description="Predictions from the models the Dagster assets materialized.",
        lifespan=lifespan,
        docs_url=None,  # served from the installed package by `add_offline_docs`, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(ModelNotReadyError, _model_not_ready)
    app.add_exception_handler(Exception, _unexpected)
    for product in PRODUCTS:
        app.include_router(product.router, responses=PRODUCT_ERRORS)
    add_offline_docs(app)
    # Prometheus' text format, not JSON: left out of the OpenAPI schema the clients read.
    app.add_api_route("/metrics", app.metrics.response, include_in_schema=False)

    @app.get("/healthz", tags=["operations"])
    async def health() -> dict[str, str]:
        """The process is up and answering; says nothing about models (see /readyz)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses={503: PRODUCT_ERRORS[503]})
    async def readiness() -> JSONResponse:
        """200 with each model's version (null: none loaded) once every stored model has been
        tried and one loaded, 503 before. `problems` says why a stored model did not load: that
        product answers 503 with the reason (see /readyz/{asset}) while the others serve."""
        ready = registry.ready()
        return JSONResponse(
            {
                "status": "ready" if ready else "loading",
                "models": registry.versions(),
                "problems": registry.problems(),
            },
            status_code=200 if ready else 503,
        )

    @app.get(
        "/readyz/{asset}",
        tags=["operations"],
        responses={404: PRODUCT_ERRORS[404], 503: PRODUCT_ERRORS[503]},
    )
    async def product_readiness(asset: str) -> JSONResponse:
        """One product's readiness, by the asset it serves: 200 with the version served (and
        any problem with a newer stored file), 503 with the reason while none is loaded."""
        if asset not in registry.assets:
            raise HTTPException(404, f"no served product has asset '{asset}': {registry.assets}")
        version = registry.versions()[asset]
        problem = registry.problems().get(asset)
        return JSONResponse(
            {"model": asset, "version": version, "problem": problem},
            status_code=200 if version is not None else 503,
        )

    return app
