"""`FastPosts`: a product's fast handler answers valid bodies; everything else reaches the app intact."""

import asyncio
import json

import pytest
from fastapi import APIRouter

from ml_platform.core.storage import ObjectStore
from ml_platform.serving.app import FastPosts
from ml_platform.serving.models import LoadedModel, ModelRegistry, Product


def double_numbers(raw: bytes, loaded: LoadedModel) -> bytes | None:
    """Answers {"numbers": [...]} with each number times the stored factor; declines the rest."""
    try:
        numbers = json.loads(raw)["numbers"]
    except (ValueError, KeyError, TypeError):
        return None
    return json.dumps([n * loaded.value["factor"] for n in numbers]).encode()


PRODUCT = Product(
    asset="doubler",
    router=APIRouter(),
    accepts=lambda value: isinstance(value, dict),
    fast_posts={"/double": double_numbers},
)


class RecordingApp:
    """The app behind the middleware: records what reached it and the body it could read."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope, receive, send) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 422, "headers": []})
        await send({"type": "http.response.body", "body": b"from the route"})


def call(app, path: str, chunks: list[bytes], headers=None) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": headers if headers is not None else [(b"content-type", b"application/json")],
    }
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@pytest.fixture
def stack(tmp_path) -> tuple[FastPosts, RecordingApp]:
    store = ObjectStore(base_uri=str(tmp_path))
    store.write_bytes("doubler.json", json.dumps({"factor": 2}).encode())
    registry = ModelRegistry(store, [PRODUCT], reload_interval_seconds=60)
    assert registry.refresh() == ["doubler"]
    inner = RecordingApp()
    return FastPosts(inner, registry=registry, products=(PRODUCT,)), inner


def test_a_body_sent_in_chunks_is_answered_by_the_handler_without_reaching_the_app(stack):
    app, inner = stack

    status, body = call(app, "/double", [b'{"numbers": [1, ', b"2.5]}"])

    assert (status, json.loads(body)) == (200, [2, 5.0])
    assert inner.bodies == []


def test_a_declined_body_reaches_the_app_byte_for_byte(stack):
    app, inner = stack

    status, body = call(app, "/double", [b'{"numb', b'ers": "x"'])

    assert (status, body) == (422, b"from the route")
    assert inner.bodies == [b'{"numbers": "x"']


def test_other_paths_and_content_types_go_to_the_app_untouched(stack):
    app, inner = stack

    call(app, "/elsewhere", [b'{"numbers": [1]}'])
    call(app, "/double", [b'{"numbers": [1]}'], headers=[(b"content-type", b"text/plain")])

    assert inner.bodies == [b'{"numbers": [1]}', b'{"numbers": [1]}']


def test_json_content_types_are_answered_and_a_missing_one_goes_to_the_app(stack):
    app, inner = stack

    vendor = call(app, "/double", [b'{"numbers": [3]}'], [(b"content-type", b"application/x+json")])
    charset = call(
        app,
        "/double",
        [b'{"numbers": [3]}'],
        [(b"content-type", b"application/json; charset=utf-8")],
    )
    missing = call(app, "/double", [b'{"numbers": [3]}'], headers=[])

    assert vendor == charset == (200, b"[6]")
    assert missing[0] == 422 and inner.bodies == [b'{"numbers": [3]}']  # FastAPI's strict 422


def test_before_the_model_is_loaded_every_request_goes_to_the_app(tmp_path):
    registry = ModelRegistry(ObjectStore(base_uri=str(tmp_path)), [PRODUCT], 60)
    inner = RecordingApp()
    app = FastPosts(inner, registry=registry, products=(PRODUCT,))

    status, _ = call(app, "/double", [b'{"numbers": [1]}'])

    assert status == 422 and inner.bodies == [b'{"numbers": [1]}']
