"""The tweet classifier behind TensorFlow Serving's REST API, so a client written for
`tensorflow_model_server` works against this app unchanged (and back).

- `POST /v1/models/tweet_classifier:predict` with `{"instances": ["text", …]}` (or
  `[{"text": "…"}, …]`) → `{"predictions": [[p], …]}`; columnar `{"inputs": [...]}` →
  `{"outputs": [[p], …]}`. `p` is P(about AI).
- `GET /v1/models/tweet_classifier` → `{"model_version_status": [{"version": "3", "state":
  "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}`.
- The same under `/versions/{n}` for the served version; other versions are 404.

Errors follow TensorFlow Serving too: `{"error": "…"}` with 400 for a malformed body (naming
what is wrong), 404 for an unknown version; 503 while no model is loaded.

The served value is the `tweet_classifier` asset: a `TweetClassifier` holding the SavedModel
packed as one archive (one stored file, so the registry swaps it atomically) — the same
SavedModel the asset also unpacks to `tweet_classifier_serving/<version>/`, the layout
`tensorflow_model_server --model_base_path` reads. TensorFlow is imported only when such a
model is loaded, so the app's other products never pay for it.

In production TensorFlow Serving can serve the same files (its binary is not installable here):

    tensorflow_model_server --rest_api_port=8501 --model_name=tweet_classifier \
        --model_base_path=s3://<bucket>/<prefix>/tweet_classifier_serving \
        --file_system_poll_wait_seconds=30

(S3 credentials and `S3_ENDPOINT` from the environment, or sync the folder to local disk
first.) It serves the highest numbered version and picks up each new one the asset exports;
clients switch between it and this app by changing the host only.
"""

import logging
import math
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import orjson
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from ml_platform.serving.models import LoadedModel, Product, encode_json, json_response
from ml_platform.tweets.contract import MODEL_ASSET as ASSET

MODEL_NAME = "tweet_classifier"
MAX_INSTANCES = 1000
MAX_TEXT_CHARS = 10_000
SIGNATURES = ("serving_default", "serve")

logger = logging.getLogger(__name__)


@runtime_checkable
class TextClassifier(Protocol):
    """What the app needs of `tweets.classifier.TweetClassifier`."""

    version: int

    def load(self) -> Any: ...
    def predict(self, texts: Sequence[str]) -> Any: ...


def _servable(value: Any) -> bool:
    """A classifier whose SavedModel loads: loading here, in the registry's thread, means no
    request waits for it and a broken model never replaces a working one."""
    if not isinstance(value, TextClassifier):
        return False
    try:
        value.load()
    except Exception:
        logger.exception("tweet_classifier version %s does not load", value.version)
        return False
    return True


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _error(message: str, status: int) -> Response:
    return Response(
        encode_json({"error": message}), status_code=status, media_type="application/json"
    )


def _texts(values: Any, field: str) -> list[str]:
    """A list of strings, or of `{"text": "…"}` objects (row format with a named input)."""
    if not isinstance(values, list) or not values:
        raise BadRequest(f"'{field}' must be a non-empty list of strings")
    if len(values) > MAX_INSTANCES:
        raise BadRequest(f"'{field}' has {len(values)} items; at most {MAX_INSTANCES} per request")
    texts = []
    for i, value in enumerate(values):
        if isinstance(value, dict) and set(value) == {"text"}:
            value = value["text"]
        if not isinstance(value, str):
            raise BadRequest(
                f"'{field}[{i}]' is a {type(value).__name__}; expected a string "
                'or {"text": "…"}'
            )
        if len(value) > MAX_TEXT_CHARS:
            raise BadRequest(f"'{field}[{i}]' is longer than {MAX_TEXT_CHARS} characters")
        texts.append(value)
    return texts


def _parse(body: bytes) -> tuple[str, list[str]]:
    """('predictions' | 'outputs', texts) from a TF Serving predict body."""
    # orjson, not `json`: it refuses nesting deeper than 1,024 (`json` recursed until a
    # RecursionError, a 500) and lone surrogates such as "\ud800" (`json` let them through to
    # the model, whose UTF-8 encoding then failed: a 500 too).
    try:
        request = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"body is not valid JSON: {error}") from None
    if not isinstance(request, dict):
        raise BadRequest("body must be a JSON object with 'instances' or 'inputs'")
    signature = request.get("signature_name", "serving_default")
    if signature not in SIGNATURES:
        raise BadRequest(f"'signature_name' is {signature!r}; this model has {list(SIGNATURES)}")
    if ("instances" in request) == ("inputs" in request):
        raise BadRequest("body must have exactly one of 'instances' (row) or 'inputs' (columnar)")
    if "instances" in request:
        return "predictions", _texts(request["instances"], "instances")
    inputs = request["inputs"]
    if isinstance(inputs, dict) and set(inputs) == {"text"}:
        inputs = inputs["text"]
    return "outputs", _texts(inputs, "inputs")


def _status(loaded: LoadedModel) -> dict[str, Any]:
    return {
        "model_version_status": [
            {
                "version": str(loaded.value.version),
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }


def _loaded(request: Request, version: int | None) -> LoadedModel:
    loaded = request.app.state.models.get(ASSET)
    if version is not None and version != loaded.value.version:
        raise BadRequest(
            f"Servable not found for request: Specific({MODEL_NAME}, {version}); "
            f"serving version {loaded.value.version}",
            status=404,
        )
    return loaded


def _answer(loaded: LoadedModel, body: bytes) -> Response:
    try:
        key, texts = _parse(body)
    except BadRequest as error:
        return _error(str(error), error.status)
    probabilities = loaded.value.predict(texts)
    # JSON has no NaN: a non-finite output (never expected from a sigmoid) becomes null
    rows = [[p if math.isfinite(p) else None] for p in map(float, probabilities)]
    return json_response(encode_json({key: rows}))


async def _predict(request: Request, version: int | None) -> Response:
    try:
        loaded = _loaded(request, version)
    except BadRequest as error:
        return _error(str(error), error.status)
    body = await request.body()
    # Parsing up to 1,000 texts and running the network takes milliseconds to seconds: in the
    # thread pool (anyio's, 40 threads at most), so the event loop goes on answering every
    # other request meanwhile (TensorFlow releases the GIL while it computes).
    return await run_in_threadpool(_answer, loaded, body)


def _get_status(request: Request, version: int | None) -> Response:
    try:
        return json_response(encode_json(_status(_loaded(request, version))))
    except BadRequest as error:
        return _error(str(error), error.status)


router = APIRouter(tags=["tweet classifier (TensorFlow Serving REST API)"])
BASE = f"/v1/models/{MODEL_NAME}"


@router.post(f"{BASE}:predict")
async def predict(request: Request) -> Response:
    """P(about AI) per text: `{"instances": ["text", …]}` → `{"predictions": [[p], …]}`."""
    return await _predict(request, None)


@router.post(BASE + "/versions/{version}:predict")
async def predict_version(request: Request, version: int) -> Response:
    """As `:predict`, for the served version only (404 for any other)."""
    return await _predict(request, version)


@router.get(BASE)
async def model_status(request: Request) -> Response:
    """The served version's status, in TensorFlow Serving's shape."""
    return _get_status(request, None)


@router.get(BASE + "/versions/{version}")
async def model_version_status(request: Request, version: int) -> Response:
    return _get_status(request, version)


PRODUCT = Product(asset=ASSET, router=router, accepts=_servable)
