"""The similar-users routes as a caller sees them: the original JSON contract, typos, errors
that name the field, never a 5xx, and a newer index served without a restart."""

import json
import random
import time
from dataclasses import replace

import dagster as dg
import numpy as np
import pytest
from fastapi.testclient import TestClient

from ml_platform.core.storage import ObjectStore, ObjectStoreIOManager
from ml_platform.serving import ServingSettings, create_app
from ml_platform.similar_users.display import user_display
from ml_platform.similar_users.index import SimilarUsersIndex
from ml_platform_tests.similar_users.trained import trained

EXAMPLE = {
    "top_n": 2,
    "assessment": [["css", 90], ["python", 150]],
    "course_view": ["data-science-big-picture", "python-beyond-basics"],
    "user_interests": ["python", "data-analysis"],
}


def store_index(store: ObjectStore, index: SimilarUsersIndex) -> None:
    """Materialize `similar_users_index` through the platform's IO manager, as the asset does."""

    @dg.asset(name="similar_users_index")
    def similar_users_index() -> SimilarUsersIndex:
        return index

    dg.materialize(
        [similar_users_index], resources={"io_manager": ObjectStoreIOManager(store=store)}
    )


def wait_until(condition, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not true within {seconds} s"
        time.sleep(0.02)


def index_version(client: TestClient) -> str | None:
    return client.get("/readyz").json()["models"]["similar_users_index"]


@pytest.fixture
def store(tmp_path) -> ObjectStore:
    return ObjectStore(base_uri=str(tmp_path / "storage"))


@pytest.fixture
def client(store):
    store_index(store, trained().index)
    settings = ServingSettings(object_store=store, reload_interval_seconds=0.05)
    with TestClient(create_app(settings)) as client:
        wait_until(lambda: index_version(client) is not None)
        yield client


def test_score_answers_the_original_example_in_the_original_format(client):
    response = client.post("/score", json=EXAMPLE)

    assert response.status_code == 200
    answer = response.json()
    assert len(answer) == 2
    for handle, entry in answer.items():
        assert handle.isdigit()
        assert set(entry) == {"similarity", "assessment_tag", "course_id", "interest_tag"}
        assert 0 < entry["similarity"] <= 1
    similarities = [entry["similarity"] for entry in answer.values()]
    assert similarities == sorted(similarities, reverse=True)


def test_a_query_with_typos_finds_python_and_data_analysis_people(client):
    answer = client.post(
        "/score", json={"top_n": 10, "user_interests": ["pyhton", "data-analisys"]}
    ).json()
    interests = trained().data.tables.user_interests
    followed = interests.groupby("user_handle")["interest_tag"].agg(set)
    assert sum(bool({"python", "data-analysis"} & followed.get(h, set())) for h in answer) >= 8
    assert (
        answer
        == client.post(
            "/score", json={"top_n": 10, "user_interests": ["python", "data-analysis"]}
        ).json()
    )


def test_words_no_user_ever_had_still_answer_through_subwords(client):
    response = client.post("/score", json={"user_interests": ["pandas-dataframe-internals"]})
    assert response.status_code == 200 and len(response.json()) == 10


def test_a_known_users_similar_users_exclude_them_and_repeat_from_the_cache(client):
    handle = str(trained().embeddings.handles[7])
    first = client.get(f"/users/{handle}/similar", params={"top_n": 5})
    again = client.get(f"/users/{handle}/similar", params={"top_n": 5})

    assert first.status_code == 200 and first.content == again.content
    assert len(first.json()) == 5 and handle not in first.json()


def test_an_unknown_user_is_404_saying_what_to_do_instead(client):
    response = client.get("/users/nobody/similar")
    assert response.status_code == 404
    assert "POST /score" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"assessment": [], "course_view": [], "user_interests": []}, "body"),
        ({**EXAMPLE, "favourite_colour": "blue"}, "favourite_colour"),
        ({**EXAMPLE, "assessment": [["css", -5]]}, "assessment"),
        ({**EXAMPLE, "assessment": [["css", 301]]}, "assessment"),
        ({**EXAMPLE, "assessment": [["css"]]}, "assessment"),
        ({**EXAMPLE, "top_n": 0}, "top_n"),
        ({**EXAMPLE, "top_n": 101}, "top_n"),
        ({**EXAMPLE, "top_n": "many"}, "top_n"),
        ({**EXAMPLE, "user_interests": [""]}, "user_interests"),
        ({**EXAMPLE, "course_view": "python-beyond-basics"}, "course_view"),
        ({"user_interests": ["ⓩⓩⓩ"]}, "body"),
    ],
)
def test_a_bad_body_is_422_naming_the_field(client, body, field):
    response = client.post("/score", json=body)

    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(field in map(str, error["loc"]) for error in errors), errors


@pytest.mark.parametrize("top_n", ["0", "101", "x"])
def test_top_n_out_of_range_on_a_user_is_422_naming_it(client, top_n):
    handle = str(trained().embeddings.handles[0])
    response = client.get(f"/users/{handle}/similar", params={"top_n": top_n})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "top_n"]


def _mutations(rng: random.Random) -> bytes:
    values = [None, True, -1, 0, 2**70, "", "ж" * 300, [], {}, [[]], [["x", "y"]],
              [["css", 1e300]], [["css", float("nan")]], [["css", 1e309]], ["a"] * 600,
              "python"]  # fmt: skip
    body = dict(EXAMPLE)
    for _ in range(rng.randint(1, 3)):
        key = rng.choice([*EXAMPLE, "extra"])
        body[key] = rng.choice(values)
    text = json.dumps(body)
    if rng.random() < 0.2:
        cut = rng.randrange(len(text))
        text = text[:cut]
    raw = text.encode()
    return raw if rng.random() < 0.9 else raw + b"\xff\xfe"


def test_fuzzed_bodies_get_4xx_or_an_answer_never_5xx(client):
    rng = random.Random(0)
    statuses = set()
    for _ in range(300):
        response = client.post(
            "/score", content=_mutations(rng), headers={"content-type": "application/json"}
        )
        statuses.add(response.status_code)
    assert all(status < 500 for status in statuses), statuses
    assert {200, 422} <= statuses


@pytest.mark.parametrize("number", ["NaN", "Infinity", "1e309"])
def test_a_non_finite_score_is_422(client, number):
    body = '{"assessment": [["css", ' + number + "]]}"
    response = client.post("/score", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_a_newer_index_is_served_without_a_restart(client, store):
    before = index_version(client)
    built = trained()
    renamed = np.array([f"new-{h}" for h in built.embeddings.handles])
    embeddings = replace(built.embeddings, handles=renamed)
    display = user_display(built.data.tables, built.embeddings.handles).assign(
        user_handle=lambda d: "new-" + d["user_handle"]
    )
    time.sleep(0.01)  # a distinct modification time even on coarse-clock filesystems
    store_index(store, SimilarUsersIndex(embeddings, display))

    wait_until(lambda: index_version(client) != before)
    assert client.get("/users/new-1/similar").status_code == 200
    assert client.get("/users/1/similar").status_code == 404
    assert all(h.startswith("new-") for h in client.post("/score", json=EXAMPLE).json())


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"course_view": ["\\ud800"]}', "course_view"),
        (b'{"user_interests": ["py\\udc00thon"]}', "user_interests"),
        (b'{"assessment": [["\\ud83d", 90]]}', "assessment"),
    ],
)
def test_a_lone_surrogate_in_a_word_is_422_naming_the_field(client, body, field):
    response = client.post("/score", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"][:2] == ["body", field]
    assert "unicode" in error["msg"]


def test_json_nested_too_deep_is_a_client_error(client):
    body = b'{"course_view": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = client.post("/score", content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
