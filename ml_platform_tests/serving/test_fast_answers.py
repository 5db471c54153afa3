"""`FastAnswers` in front of the app: a product's fast handler answers valid bodies; everything
else reaches FastAPI intact, and every request is logged once."""

import asyncio
import json
import logging

import pytest
from fastapi import APIRouter, Request, Response

from ml_platform.core.storage import ObjectStore
from ml_platform.serving.app import ServingApp
from ml_platform.serving.fast_answers import FastAnswers
from ml_platform.serving.models import LoadedModel, ModelRegistry, Product


def double_numbers(raw: bytes, loaded: LoadedModel) -> bytes | None:
    """Answers {"numbers": [...]} with each number times the stored factor; declines the rest."""
    try:
        numbers = json.loads(raw)["numbers"]
    except (ValueError, KeyError, TypeError):
        return None
    if numbers == ["bug"]:
        raise RuntimeError("a bug in the fast handler")
    return json.dumps([n * loaded.value["factor"] for n in numbers]).encode()


def serving_app(registry: ModelRegistry) -> tuple[ServingApp, list[bytes]]:
    """A `ServingApp` whose /double and /elsewhere routes record the bodies that reached them."""
    reached: list[bytes] = []
    router = APIRouter()

    @router.post("/double")
    @router.post("/elsewhere")
    async def route(request: Request) -> Response:
        reached.append(await request.body())
        return Response(b"from the route", status_code=422)

    product = Product(
        asset="doubler",
        router=router,
        accepts=lambda value: isinstance(value, dict),
        fast_posts={"/double": double_numbers},
    )
    app = ServingApp(FastAnswers(registry, (product,)))
    app.include_router(router)
    return app, reached


# what the registry loads: the doubler's stored factor (its routes are `serving_app`'s)
PRODUCT = Product(
    asset="doubler", router=APIRouter(), accepts=lambda value: isinstance(value, dict)
)


def call(
    app, path: str, chunks: list[bytes], headers=None, complete: bool = True
) -> tuple[int | None, bytes]:
    """Status and body of a POST sent in `chunks`; with `complete` False the client goes away
    after them (status None: nothing was sent back)."""
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "headers": headers if headers is not None else [(b"content-type", b"application/json")],
    }
    messages = [
        {"type": "http.request", "body": chunk, "more_body": not complete or i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    if not sent:
        return None, b""
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@pytest.fixture
def registry(tmp_path) -> ModelRegistry:
    store = ObjectStore(base_uri=str(tmp_path))
    store.write_bytes("doubler.json", json.dumps({"factor": 2}).encode())
    registry = ModelRegistry(store, [PRODUCT], reload_interval_seconds=60)
    assert registry.refresh() == ["doubler"]
    return registry


def test_a_body_sent_in_chunks_is_answered_by_the_handler_without_reaching_the_app(registry):
    app, reached = serving_app(registry)

    status, body = call(app, "/double", [b'{"numbers": [1, ', b"2.5]}"])

    assert (status, json.loads(body)) == (200, [2, 5.0])
    assert reached == []


def test_a_declined_body_reaches_the_app_byte_for_byte(registry):
    app, reached = serving_app(registry)

    status, body = call(app, "/double", [b'{"numb', b'ers": "x"'])

    assert (status, body) == (422, b"from the route")
    assert reached == [b'{"numbers": "x"']


def test_other_paths_and_content_types_go_to_the_app_untouched(registry):
    app, reached = serving_app(registry)

    call(app, "/elsewhere", [b'{"numbers": [1]}'])
    call(app, "/double", [b'{"numbers": [1]}'], headers=[(b"content-type", b"text/plain")])

    assert reached == [b'{"numbers": [1]}', b'{"numbers": [1]}']


def test_json_content_types_are_answered_and_a_missing_one_goes_to_the_app(registry):
    app, reached = serving_app(registry)

    vendor = call(app, "/double", [b'{"numbers": [3]}'], [(b"content-type", b"application/x+json")])
    charset = call(
        app,
        "/double",
        [b'{"numbers": [3]}'],
        [(b"content-type", b"application/json; charset=utf-8")],
    )
    missing = call(app, "/double", [b'{"numbers": [3]}'], headers=[])

    assert vendor == charset == (200, b"[6]")
    assert missing[0] == 422 and reached == [b'{"numbers": [3]}']  # FastAPI's strict 422


def test_before_the_model_is_loaded_every_request_goes_to_the_app(tmp_path):
    app, reached = serving_app(ModelRegistry(ObjectStore(base_uri=str(tmp_path)), [PRODUCT], 60))

    status, _ = call(app, "/double", [b'{"numbers": [1]}'])

    assert status == 422 and reached == [b'{"numbers": [1]}']


def test_a_failing_handler_is_a_logged_500_and_the_client_gone_mid_body_a_499(registry, caplog):
    app, reached = serving_app(registry)

    with caplog.at_level(logging.INFO, logger="ml_platform.serving"):
        failed = call(app, "/double", [b'{"numbers": ["bug"]}'])
        gone = call(app, "/double", [b'{"numbers": [1, '], complete=False)

    assert failed == (500, b'{"detail":"internal error, logged on the server"}')
    assert gone == (None, b"")
    assert "a bug in the fast handler" in caplog.text and reached == []
    logged = [r.fields["status"] for r in caplog.records if hasattr(r, "fields")]
    assert logged == [500, 499]
