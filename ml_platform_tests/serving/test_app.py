"""The serving app as a caller sees it: answers, errors, readiness and hot reload of the model."""

import json
import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg
import httpx
import numpy as np
import pytest
import uvicorn
from fastapi.testclient import TestClient

from ml_platform.core.errors import InvalidInputError
from ml_platform.core.storage import ObjectStore, ObjectStoreIOManager
from ml_platform.serving import ServingSettings, create_app
from ml_platform.serving.app import JsonLogFormatter

POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Recommendation:
    movie_id: int
    title: str
    predicted_rating: float
    retrieval_score: float


class TasteRecommender:
    """A small real recommender for the app to serve: a person's taste is their ratings' deviation
    from 3 stars times each rated movie's genre vector; movies score by taste · genres."""

    def __init__(
        self, genres: Mapping[int, list[float]], history: Mapping[int, Mapping[int, float]]
    ) -> None:
        self.movie_ids = np.array(sorted(genres))
        self.genres = np.array([genres[m] for m in self.movie_ids], dtype=float)
        self.history = {user: dict(ratings) for user, ratings in history.items()}
        self.catalogue = set(genres)

    def has_user(self, user_id: int) -> bool:
        return user_id in self.history

    def has_movie(self, movie_id: int) -> bool:
        return movie_id in self.catalogue

    def recommend(self, user_id: int, k: int) -> list[Recommendation]:
        return self.recommend_for_ratings(self.history[user_id], k)

    def recommend_for_ratings(self, ratings: Mapping[int, float], k: int) -> list[Recommendation]:
        rows = np.searchsorted(self.movie_ids, list(ratings))
        taste = (np.array(list(ratings.values())) - 3.0) @ self.genres[rows]
        scores = self.genres @ taste
        scores[rows] = -np.inf
        best = np.argsort(-scores, kind="stable")[: min(k, len(scores) - len(rows))]
        return [
            Recommendation(
                movie_id=int(self.movie_ids[i]),
                title=f"Movie {self.movie_ids[i]}",
                predicted_rating=float(np.clip(3.0 + scores[i], 0.5, 5.0)),
                retrieval_score=float(scores[i]),
            )
            for i in best
        ]


# Movies 1-3 are action, 4-6 romance; user 1 loves action, user 2 romance.
GENRES = {1: [1, 0], 2: [1, 0], 3: [0.9, 0.1], 4: [0, 1], 5: [0.1, 0.9], 6: [0, 1]}
HISTORY = {1: {1: 5.0, 4: 1.0}, 2: {4: 5.0, 1: 1.0}}


def store_model(store: ObjectStore, model: Any) -> None:
    """Materialize `recommender_model` through the platform's IO manager, as the asset does."""

    @dg.asset(name="recommender_model")
    def recommender_model() -> Any:
        return model

    dg.materialize([recommender_model], resources={"io_manager": ObjectStoreIOManager(store=store)})


def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {seconds} s")
        time.sleep(0.02)


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


def test_health_answers_at_once_and_readiness_waits_for_the_stored_models(store, settings):
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        not_ready = client.get("/readyz")
        assert not_ready.status_code == 503
        models = not_ready.json()["models"]
        assert "recommender_model" in models and set(models.values()) == {None}
        early = client.get("/recommendations/1")
        assert early.status_code == 503
        assert "not loaded yet" in early.json()["detail"]

        store_model(store, TasteRecommender(GENRES, HISTORY))
        wait_until(lambda: client.get("/readyz").status_code == 200)
        # ready with only the recommender stored: products never materialized do not count
        models = client.get("/readyz").json()["models"]
        assert models["recommender_model"].startswith("20")
        assert [version for version in models.values() if version] == [models["recommender_model"]]


def test_a_stored_model_that_cannot_be_served_makes_only_its_product_unready(store, settings):
    store_model(store, TasteRecommender(GENRES, HISTORY))
    store.write_bytes("similar_users_index.json", b'{"not": "a model"}')
    with TestClient(create_app(settings)) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200)
        ready = client.get("/readyz").json()
        assert ready["models"]["similar_users_index"] is None
        assert "holds a dict, not a servable model" in ready["problems"]["similar_users_index"]
        assert client.get("/recommendations/1").status_code == 200
        refused = client.post("/score", json={"course_view": ["python"]})
        assert refused.status_code == 503
        assert "not a servable model" in refused.json()["detail"]


def test_a_torn_model_file_on_a_fresh_server_holds_back_only_its_product(store, settings):
    store_model(store, TasteRecommender(GENRES, HISTORY))
    # what an in-place writer killed mid-write used to leave: the head of a joblib pickle
    store.write_bytes("prod2vec_index.joblib", b"\x80\x04\x95\xff\xff\x00\x00\x00")
    with TestClient(create_app(settings)) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200)
        ready = client.get("/readyz").json()
        assert ready["status"] == "ready"
        assert ready["models"]["recommender_model"] is not None
        assert "does not load" in ready["problems"]["prod2vec_index"]
        assert client.get("/readyz/recommender_model").status_code == 200
        product = client.get("/readyz/prod2vec_index")
        assert product.status_code == 503
        assert product.json()["problem"] == ready["problems"]["prod2vec_index"]
        assert client.get("/recommendations/1").status_code == 200
        refused = client.get("/products/1/similar")
        assert refused.status_code == 503
        assert "prod2vec_index" in refused.json()["detail"]
        assert "does not load" in refused.json()["detail"]
        assert client.get("/readyz/no_such_model").status_code == 404


def test_known_user_gets_k_unseen_movies_of_their_taste_best_first(client):
    response = client.get("/recommendations/1", params={"k": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["user_id"] == 1
    assert body["model_version"] == client.get("/readyz").json()["models"]["recommender_model"]
    movies = body["recommendations"]
    assert [m["movie_id"] for m in movies] == [2, 3]  # action, and 1 was already seen
    assert set(movies[0]) == {"movie_id", "title", "predicted_rating", "retrieval_score"}
    assert movies[0]["retrieval_score"] >= movies[1]["retrieval_score"]


def test_posted_ratings_get_recommendations_for_a_new_person(client):
    ratings = [{"movie_id": 6, "rating": 5}, {"movie_id": 1, "rating": 0.5}]
    response = client.post("/recommendations", json={"ratings": ratings, "k": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["user_id"] is None
    assert [m["movie_id"] for m in body["recommendations"]] == [4, 5, 3]


def test_k_defaults_to_ten_capped_by_the_movies_left(client):
    assert len(client.get("/recommendations/2").json()["recommendations"]) == 4


def test_unknown_user_is_404_saying_how_to_get_recommendations_anyway(client):
    response = client.get("/recommendations/999")
    assert response.status_code == 404
    assert "user 999 is not in model" in response.json()["detail"]
    assert "POST /recommendations" in response.json()["detail"]


@pytest.mark.parametrize("k", ["0", str(10**9), "abc", "101", "-1", "2.5"])
def test_k_out_of_range_or_not_an_integer_is_422_naming_k(client, k):
    response = client.get(f"/recommendations/1?k={k}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "k"]


@pytest.mark.parametrize("user_id", ["abc", "0", "-3", str(2**31), str(10**40)])
def test_user_id_that_cannot_be_an_id_is_422_naming_it(client, user_id):
    response = client.get(f"/recommendations/{user_id}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "user_id"]


def many(n: int) -> list[dict[str, float]]:
    return [{"movie_id": i, "rating": 4} for i in range(1, n + 1)]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body", "ratings"]),
        ({"ratings": []}, ["body", "ratings"]),
        ({"ratings": "5 stars"}, ["body", "ratings"]),
        ({"ratings": [{"movie_id": "one", "rating": 4}]}, ["body", "ratings", 0, "movie_id"]),
        ({"ratings": [{"movie_id": 1}]}, ["body", "ratings", 0, "rating"]),
        ({"ratings": [{"movie_id": 1, "rating": 0}]}, ["body", "ratings", 0, "rating"]),
        ({"ratings": [{"movie_id": 1, "rating": 5.5}]}, ["body", "ratings", 0, "rating"]),
        ({"ratings": many(201)}, ["body", "ratings"]),
        ({"ratings": many(1), "k": 0}, ["body", "k"]),
        ({"ratings": many(1), "k": "ten"}, ["body", "k"]),
        ({"ratings": many(1) * 2}, ["body", "ratings"]),
        (
            {"ratings": [{"movie_id": 1, "rating": 4}, {"movie_id": 77, "rating": 3}]},
            ["body", "ratings", 1, "movie_id"],
        ),
    ],
)
def test_bad_ratings_body_is_422_naming_the_field(client, body, loc):
    response = client.post("/recommendations", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e309"])
def test_a_non_finite_rating_is_422_with_the_input_echoed_as_text(client, number):
    body = f'{{"ratings": [{{"movie_id": 1, "rating": {number}}}]}}'.encode()

    response = client.post(
        "/recommendations", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "ratings", 0, "rating"]
    assert response.json()["detail"][0]["input"] in {"nan", "inf", "-inf"}


def test_missing_or_non_json_body_is_422(client):
    assert client.post("/recommendations").status_code == 422
    assert client.post("/recommendations", content=b"{not json").status_code == 422


def test_no_malformed_request_gets_a_server_error(client):
    rng = random.Random(7)
    values = [None, True, -1, 0, 1, 3, 2**63, 1e308, -0.0, "", "x", "4", [], {}, [1], {"a": 1}]
    specials = [b"NaN", b"Infinity", b"-Infinity", b"[", b"\x00\xff", b'{"ratings": [NaN]}']
    for _ in range(400):
        if rng.random() < 0.3:
            path = "/recommendations/" + rng.choice(["1", "x", "%00", "1.0", "9" * 50, "", "1/2"])
            response = client.get(path, params={"k": rng.choice(values)})
        else:
            rating = {rng.choice(["movie_id", "rating", "x"]): rng.choice(values) for _ in range(2)}
            body = {"ratings": rng.choice([[rating] * rng.randint(0, 3), rng.choice(values)])}
            if rng.random() < 0.5:
                body["k"] = rng.choice(values)
            if rng.random() < 0.2:
                content = rng.choice(specials)
            else:
                content = json.dumps(body).encode()
            response = client.post("/recommendations", content=content)
        assert response.status_code < 500, (response.request.url, response.text)


def test_a_newer_stored_model_is_served_after_the_next_poll(client, store):
    before = client.get("/recommendations/1", params={"k": 1}).json()
    assert before["recommendations"][0]["movie_id"] == 2

    time.sleep(0.01)  # a distinct modification time even on coarse-clock filesystems
    store_model(store, TasteRecommender(GENRES, {1: {1: 1.0, 4: 5.0}, 3: {2: 4.0}}))
    wait_until(
        lambda: (
            client.get("/readyz").json()["models"]["recommender_model"] != before["model_version"]
        )
    )

    after = client.get("/recommendations/1", params={"k": 1}).json()
    assert after["recommendations"][0]["movie_id"] in {5, 6}  # user 1 now likes romance
    assert client.get("/recommendations/3").status_code == 200


class CountingRecommender(TasteRecommender):
    """Counts `recommend` calls, to tell a cached answer from a computed one."""

    calls = 0

    def recommend(self, user_id: int, k: int) -> list[Recommendation]:
        CountingRecommender.calls += 1
        return super().recommend(user_id, k)


def test_a_repeated_get_is_answered_from_the_cache_of_the_model_version(client, store):
    before = client.get("/readyz").json()["models"]["recommender_model"]
    time.sleep(0.01)  # a distinct modification time even on coarse-clock filesystems
    store_model(store, CountingRecommender(GENRES, HISTORY))
    wait_until(lambda: client.get("/readyz").json()["models"]["recommender_model"] != before)
    CountingRecommender.calls = 0
    first = client.get("/recommendations/1", params={"k": 2})
    calls = CountingRecommender.calls
    assert calls == 1  # a new model version: computed, not the previous version's answer
    again = client.get("/recommendations/1", params={"k": 2})
    assert CountingRecommender.calls == calls  # not recomputed
    assert (again.status_code, again.content) == (200, first.content)
    assert again.headers["content-type"] == first.headers["content-type"] == "application/json"
    assert again.headers["content-length"] == str(len(first.content))
    # Another k, an unknown user, an invalid k: not cached answers, the route's own.
    assert len(client.get("/recommendations/1", params={"k": 1}).json()["recommendations"]) == 1
    assert client.get("/recommendations/999", params={"k": 2}).status_code == 404
    assert client.get("/recommendations/1", params={"k": 0}).status_code == 422
    assert client.get("/recommendations/1", params={"k": 0}).status_code == 422


def test_answers_have_the_documented_shape(client):
    from ml_platform.serving.recommendations import RecommendationsResponse

    for response in (
        client.get("/recommendations/1", params={"k": 3}),
        client.get("/recommendations/1", params={"k": 3}),  # the cached one
        client.post("/recommendations", json={"ratings": [{"movie_id": 6, "rating": 5}]}),
    ):
        assert response.status_code == 200
        parsed = RecommendationsResponse.model_validate_json(response.content)
        assert parsed.model_dump(mode="json") == response.json()


def test_a_stored_value_that_is_not_a_recommender_keeps_the_previous_model(client, store):
    version = client.get("/readyz").json()["models"]["recommender_model"]
    store_model(store, {"not": "a model"})
    time.sleep(10 * POLL_SECONDS)
    assert client.get("/readyz").json()["models"]["recommender_model"] == version
    assert client.get("/recommendations/1").status_code == 200


def test_each_request_is_logged_with_method_path_status_and_duration(client, caplog):
    with caplog.at_level(logging.INFO, logger="ml_platform.serving.requests"):
        client.get("/recommendations/999")
    record = next(r for r in caplog.records if r.name == "ml_platform.serving.requests")
    logged = json.loads(JsonLogFormatter().format(record))
    assert logged["method"] == "GET"
    assert logged["path"] == "/recommendations/999"
    assert logged["status"] == 404
    assert logged["duration_ms"] >= 0


def test_openapi_documents_the_recommendation_routes(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/recommendations/{user_id}", "/recommendations", "/healthz", "/readyz"} <= set(paths)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_real_uvicorn_serves_recommendations_over_loopback(store, settings):
    store_model(store, TasteRecommender(GENRES, HISTORY))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            wait_until(lambda: http.get("/readyz").status_code == 200)
            got = http.get("/recommendations/2", params={"k": 1})
            assert got.json()["recommendations"][0]["movie_id"] in {5, 6}
            assert http.get("/recommendations/1", params={"k": 0}).status_code == 422
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_a_body_that_is_not_utf8_is_422_not_a_server_error(client):
    response = client.post(
        "/recommendations", content=b"\x00\xff", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_serve_command_defaults_to_loopback_port_8000():
    from ml_platform.cli import build_parser

    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port) == ("127.0.0.1", 8000)
    assert build_parser().parse_args(["serve", "--port", "9001"]).port == 9001


def test_settings_from_environment_read_the_store_dagster_writes_to(tmp_path, monkeypatch):
    for name in ("ML_PLATFORM_ENV", "ML_PLATFORM_STORAGE_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ML_PLATFORM_HOME", str(tmp_path))
    monkeypatch.setenv("ML_PLATFORM_SERVING_RELOAD_SECONDS", "2.5")
    settings = ServingSettings.from_environment()
    assert settings.object_store.base_uri == str(tmp_path / ".ml_platform" / "storage")
    assert settings.reload_interval_seconds == 2.5

    monkeypatch.setenv("ML_PLATFORM_SERVING_RELOAD_SECONDS", "soon")
    with pytest.raises(InvalidInputError, match="ML_PLATFORM_SERVING_RELOAD_SECONDS is 'soon'"):
        ServingSettings.from_environment()


@pytest.fixture(scope="module")
def trained_recommender() -> Any:
    """The real two-stage recommender, trained briefly on tiny generated data (~15 s, mostly
    importing TensorFlow): serving must work with what the `recommender_model` asset stores."""
    from ml_platform.demo_data.movielens import generate_movielens
    from ml_platform.recommender.ranking import RankingConfig, train_ranking
    from ml_platform.recommender.retrieval import RetrievalConfig, train_retrieval
    from ml_platform.recommender.two_stage import TwoStageRecommender

    data = generate_movielens(n_users=200, n_movies=300, n_ratings=8000)
    retrieval = train_retrieval(data.ratings, data.movies, RetrievalConfig(epochs=2))
    ranking = train_ranking(data.ratings, data.movies, RankingConfig(epochs=2), retrieval=retrieval)
    return TwoStageRecommender(retrieval, ranking, data.ratings, data.movies)


def test_serves_a_trained_two_stage_recommender(store, settings, trained_recommender):
    store_model(store, trained_recommender)
    with TestClient(create_app(settings)) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200)

        known = client.get("/recommendations/7", params={"k": 5})
        assert known.status_code == 200
        movies = known.json()["recommendations"]
        assert len(movies) == 5 and all(m["title"] for m in movies)
        predicted = [m["predicted_rating"] for m in movies]
        assert predicted == sorted(predicted, reverse=True)

        ratings = [{"movie_id": m, "rating": 5.0} for m in (1, 2, 3)]
        new = client.post("/recommendations", json={"ratings": ratings, "k": 10})
        assert new.status_code == 200
        recommended = {m["movie_id"] for m in new.json()["recommendations"]}
        assert len(recommended) == 10 and not recommended & {1, 2, 3}

        assert client.get("/recommendations/201").status_code == 404
        unknown_movie = [*ratings, {"movie_id": 301, "rating": 4}]
        rejected = client.post("/recommendations", json={"ratings": unknown_movie})
        assert rejected.status_code == 422
        assert rejected.json()["detail"][0]["loc"] == ["body", "ratings", 3, "movie_id"]
