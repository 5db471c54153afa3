"""`CachedGets` in front of the app: a GET a route answered for the served model version is
answered again from memory; everything else, and everything after a reload, reaches the route."""

import json
import logging
import os

import pytest
from fastapi import APIRouter, Request, Response
from fastapi.testclient import TestClient

from ml_platform.core.storage import ObjectStore
from ml_platform.serving.app import ServingApp
from ml_platform.serving.models import LoadedModel, ModelRegistry, Product, cached_json


def doubling_app(registry: ModelRegistry) -> tuple[ServingApp, list[str]]:
    """A `ServingApp` whose GET /double/{n} answers n times the stored factor, caching its
    answer, and whose POST /double/{n} answers without caching; both record each call."""
    reached: list[str] = []
    router = APIRouter()

    @router.get("/double/{n}")
    async def double(request: Request, n: int) -> Response:
        reached.append(f"GET {n}")
        loaded: LoadedModel = request.app.state.models.get("doubler")
        return cached_json(request, loaded, json.dumps(n * loaded.value["factor"]).encode())

    @router.post("/double/{n}")
    async def double_posted(request: Request, n: int) -> Response:
        reached.append(f"POST {n}")
        return Response(b"posted", media_type="application/json")

    product = Product(
        asset="doubler",
        router=router,
        accepts=lambda value: isinstance(value, dict),
        cached_get_prefix="/double/",
    )
    app = ServingApp(registry, (product,))
    app.include_router(router)
    return app, reached


@pytest.fixture
def store(tmp_path) -> ObjectStore:
    store = ObjectStore(base_uri=str(tmp_path))
    store.write_bytes("doubler.json", json.dumps({"factor": 2}).encode())
    return store


def registry_of(store: ObjectStore) -> ModelRegistry:
    product = Product(
        asset="doubler", router=APIRouter(), accepts=lambda value: isinstance(value, dict)
    )
    registry = ModelRegistry(store, [product], reload_interval_seconds=60)
    assert registry.refresh() == ["doubler"]
    return registry


def test_a_repeated_get_is_answered_from_the_cache_without_reaching_the_route(store, caplog):
    app, reached = doubling_app(registry_of(store))
    client = TestClient(app)

    with caplog.at_level(logging.INFO, logger="ml_platform.serving"):
        first = client.get("/double/21")
        again = client.get("/double/21")

    assert (first.status_code, first.json()) == (again.status_code, again.json()) == (200, 42)
    assert again.headers["content-type"] == "application/json"
    assert reached == ["GET 21"]
    logged = [
        (r.fields["path"], r.fields["status"]) for r in caplog.records if hasattr(r, "fields")
    ]
    assert logged == [("/double/21", 200), ("/double/21", 200)]


def test_other_queries_methods_and_invalid_requests_reach_the_route(store):
    app, reached = doubling_app(registry_of(store))
    client = TestClient(app)
    client.get("/double/1")

    other_query = client.get("/double/1?k=2")
    posted = client.post("/double/1")
    invalid = client.get("/double/x")
    invalid_again = client.get("/double/x")

    assert other_query.json() == 2 and posted.content == b"posted"
    assert invalid.status_code == invalid_again.status_code == 422
    # ?k=2 is not a declared parameter: answered, never cached, so it reaches the route again
    assert client.get("/double/1?k=2").json() == 2
    assert reached == ["GET 1", "GET 1", "POST 1", "GET 1"]


def test_a_reloaded_model_starts_from_an_empty_cache(store):
    registry = registry_of(store)
    app, reached = doubling_app(registry)
    client = TestClient(app)
    assert client.get("/double/5").json() == 10

    store.write_bytes("doubler.json", json.dumps({"factor": 3}).encode())
    path = store.path("doubler.json")
    os.utime(str(path), (path.stat().st_mtime + 10, path.stat().st_mtime + 10))
    assert registry.refresh() == ["doubler"]

    assert client.get("/double/5").json() == 15
    assert reached == ["GET 5", "GET 5"]
