"""`/metrics` after real requests: counts and latencies by route template and status (cached GETs
included), the model version each product serves, and failed reloads; `/docs` with no CDN."""

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from ml_platform.core.storage import ObjectStore
from ml_platform.serving import ServingSettings, create_app
from ml_platform_tests.serving.test_app import (
    GENRES,
    HISTORY,
    POLL_SECONDS,
    TasteRecommender,
    store_model,
    wait_until,
)


@pytest.fixture
def store(tmp_path) -> ObjectStore:
    return ObjectStore(base_uri=str(tmp_path / "storage"))


@pytest.fixture
def settings(store: ObjectStore) -> ServingSettings:
    return ServingSettings(object_store=store, reload_interval_seconds=POLL_SECONDS)


@pytest.fixture
def client(store: ObjectStore, settings: ServingSettings) -> Iterator[TestClient]:
    store_model(store, TasteRecommender(GENRES, HISTORY))
    with TestClient(create_app(settings)) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200)
        yield client


def samples(client: TestClient) -> dict[tuple[str, frozenset], float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def count(found: dict, method: str, route: str, status: str) -> float:
    labels = frozenset({"method": method, "route": route, "status": status}.items())
    return found.get(("ml_platform_serving_http_requests_total", labels), 0.0)


def test_requests_are_counted_by_route_template_and_status_cached_answers_too(client):
    before = samples(client)
    for user in (1, 1, 1, 2):  # user 1's second and third answers come from the cache
        assert client.get(f"/recommendations/{user}").status_code == 200
    assert client.get("/recommendations/999").status_code == 404
    assert client.post("/recommendations", json={"ratings": []}).status_code == 422
    assert client.get("/no/such/path").status_code == 404
    after = samples(client)

    route = "/recommendations/{user_id}"
    assert count(after, "GET", route, "200") - count(before, "GET", route, "200") == 4
    assert count(after, "GET", route, "404") - count(before, "GET", route, "404") == 1
    assert count(after, "POST", "/recommendations", "422") == 1
    assert count(after, "GET", "unmatched", "404") == 1
    latency = frozenset({"method": "GET", "route": route}.items())
    assert after[("ml_platform_serving_http_request_duration_seconds_count", latency)] == 5
    assert after[("ml_platform_serving_http_request_duration_seconds_sum", latency)] > 0


def test_the_served_model_version_and_failed_reloads_are_exposed(client, store):
    version = client.get("/readyz").json()["models"]["recommender_model"]
    found = samples(client)
    served = frozenset({"asset": "recommender_model", "version": version}.items())
    assert found[("ml_platform_serving_model_loaded", served)] == 1
    failures = ("ml_platform_serving_model_reload_failures_total", frozenset())
    recommender = frozenset({"asset": "recommender_model"}.items())
    assert found[(failures[0], recommender)] == 0

    store.write_bytes("recommender_model.joblib", b"not a joblib file")  # a torn write
    registry = client.app.state.models
    wait_until(lambda: registry.failures()["recommender_model"] >= 1)

    found = samples(client)
    assert found[(failures[0], recommender)] >= 1
    assert found[("ml_platform_serving_model_loaded", served)] == 1  # the previous model serves


def test_two_apps_in_one_process_count_their_own_requests(store, settings):
    store_model(store, TasteRecommender(GENRES, HISTORY))
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        wait_until(lambda: first.get("/readyz").status_code == 200)
        first.get("/healthz")
        assert count(samples(second), "GET", "/healthz", "200") == 0
        assert count(samples(first), "GET", "/healthz", "200") == 1


def test_docs_load_swagger_ui_and_redoc_from_the_app_itself(client):
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert assets, page
        for asset in assets:
            assert asset.startswith("/docs-assets/"), (page, asset)  # no CDN, no fonts site
            answer = client.get(asset)
            assert answer.status_code == 200 and len(answer.content) > 1000, asset
        assert "https://" not in html.replace("https://swagger.io", ""), page
