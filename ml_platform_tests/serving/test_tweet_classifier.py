"""The tweet classifier through the platform's app, as a TensorFlow Serving client sees it."""

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg
import numpy as np
import pytest
from fastapi.testclient import TestClient

from ml_platform.core.storage import ObjectStore, ObjectStoreIOManager
from ml_platform.serving import ServingSettings, create_app
from ml_platform_tests.tweets.trained import trained

PREDICT = "/v1/models/tweet_classifier:predict"
TEXTS = ["Fine-tuning LLMs on a budget #MachineLearning", "Marathon training week 9, legs done"]


def store_classifier(store: ObjectStore, model: Any) -> None:
    """Materialize `tweet_classifier` through the platform's IO manager, as the asset does."""

    @dg.asset(name="tweet_classifier")
    def tweet_classifier() -> Any:
        return model

    dg.materialize([tweet_classifier], resources={"io_manager": ObjectStoreIOManager(store=store)})


def wait_until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not true within {seconds} s"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def classifier():
    return trained().result.classifier


@pytest.fixture(scope="module")
def client(tmp_path_factory, classifier) -> Iterator[TestClient]:
    store = ObjectStore(base_uri=str(tmp_path_factory.mktemp("serving") / "storage"))
    store_classifier(store, classifier)
    app = create_app(ServingSettings(object_store=store, reload_interval_seconds=0.05))
    with TestClient(app) as client:
        wait_until(lambda: client.get("/v1/models/tweet_classifier").status_code == 200)
        yield client


def test_predict_answers_the_tensorflow_serving_contract(client, classifier):
    response = client.post(PREDICT, json={"instances": TEXTS})
    assert response.status_code == 200
    predictions = response.json()["predictions"]
    assert np.array(predictions).shape == (2, 1)
    assert np.allclose(np.array(predictions)[:, 0], classifier.predict(TEXTS), atol=1e-6)
    assert predictions[0][0] > 0.5 > predictions[1][0]
    # named-input rows and the columnar format answer the same numbers
    rows = client.post(PREDICT, json={"instances": [{"text": t} for t in TEXTS]}).json()
    columns = client.post(PREDICT, json={"inputs": TEXTS}).json()
    assert rows["predictions"] == predictions == columns["outputs"]


def test_model_status_and_version_paths_follow_tensorflow_serving(client, classifier):
    status = client.get("/v1/models/tweet_classifier").json()
    assert status == {
        "model_version_status": [
            {
                "version": str(classifier.version),
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }
    version = classifier.version
    assert client.get(f"/v1/models/tweet_classifier/versions/{version}").json() == status
    served = client.post(
        f"/v1/models/tweet_classifier/versions/{version}:predict", json={"instances": TEXTS}
    )
    assert served.status_code == 200
    missing = client.post(
        f"/v1/models/tweet_classifier/versions/{version + 5}:predict", json={"instances": TEXTS}
    )
    assert missing.status_code == 404
    assert "Servable not found" in missing.json()["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"{}", "exactly one of 'instances'"),
        (json.dumps({"instances": TEXTS, "inputs": TEXTS}).encode(), "exactly one of"),
        (json.dumps({"instances": []}).encode(), "'instances' must be a non-empty list"),
        (json.dumps({"instances": "one text"}).encode(), "'instances' must be a non-empty list"),
        (json.dumps({"instances": ["ok", 5]}).encode(), "'instances[1]' is a int"),
        (json.dumps({"instances": [{"txt": "a"}]}).encode(), "'instances[0]' is a dict"),
        (json.dumps({"instances": ["a"] * 1001}).encode(), "at most 1000"),
        (json.dumps({"instances": ["a"], "signature_name": "x"}).encode(), "'signature_name'"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_malformed_bodies_get_400_naming_the_problem(client, body, message):
    response = client.post(PREDICT, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_a_batch_of_32_texts_is_answered_within_50_ms_at_p99(client):
    texts = [f"{TEXTS[i % 2]} number {i}" for i in range(32)]
    for _ in range(20):  # warm-up
        client.post(PREDICT, json={"instances": texts})
    durations = []
    for _ in range(200):
        started = time.perf_counter()
        response = client.post(PREDICT, json={"instances": texts})
        durations.append(time.perf_counter() - started)
        assert response.status_code == 200
    assert np.percentile(durations, 99) < 0.050


def test_no_model_yet_is_503_and_a_new_version_is_swapped_in(tmp_path, classifier):
    from dataclasses import replace

    store = ObjectStore(base_uri=str(tmp_path / "storage"))
    app = create_app(ServingSettings(object_store=store, reload_interval_seconds=0.05))
    with TestClient(app) as client:
        assert client.post(PREDICT, json={"instances": TEXTS}).status_code == 503
        store_classifier(store, classifier)
        wait_until(lambda: client.get("/v1/models/tweet_classifier").status_code == 200)
        store_classifier(store, replace(classifier, version=classifier.version + 1))
        wait_until(
            lambda: (
                client.get("/v1/models/tweet_classifier").json()["model_version_status"][0][
                    "version"
                ]
                == str(classifier.version + 1)
            )
        )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"instances": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "not valid JSON"),
        (b'{"instances": ["\\ud800"]}', "surrogate"),
        (b'{"inputs": {"text": ["ok", "a\\udfffb"]}}', "surrogate"),
    ],
)
def test_deep_json_and_lone_surrogates_are_400_in_the_tensorflow_serving_shape(
    client, body, message
):
    response = client.post(PREDICT, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]
