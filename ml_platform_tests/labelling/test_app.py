"""The app as annotators and attackers meet it: tokens on every route, CSRF, escaping,
agreement figures, k labels per item and admin assignments."""

import re

import pytest
from fastapi.testclient import TestClient

from ml_platform.entity_matching import batches
from ml_platform.labelling.app import COOKIE, create_app, csrf_token
from ml_platform.labelling.queues import pair_item_id
from ml_platform.tweets import golden
from ml_platform_tests.labelling import data


@pytest.fixture
def app_and_tokens(postgres_warehouse):
    frame = data.tweets(40)
    data.land_tweets(postgres_warehouse, frame)
    queue = data.land_pairs(postgres_warehouse, pairs=12)
    settings, tokens = data.settings(postgres_warehouse)
    return create_app(settings), tokens, frame, queue


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_without_a_token_every_route_answers_401_or_403(app_and_tokens):
    app = app_and_tokens[0]
    client = TestClient(app)
    paths = {route.path for route in app.routes} | {"/no/such/page", "/api/no/such"}
    assert len(paths) >= 14
    for path in sorted(paths):
        concrete = path.replace("{name}", "tweets")
        for method in ("GET", "POST"):
            if (method, concrete) == ("POST", "/session"):
                continue  # sign-in itself: without a valid token it is 401 (below)
            answer = client.request(method, concrete, headers=bearer("x" * 32))
            assert answer.status_code in (401, 403), (method, concrete, answer.status_code)
            answer = client.request(method, concrete)
            assert answer.status_code in (401, 403), (method, concrete, answer.status_code)
    assert client.post("/session", data={"token": "wrong" * 5}).status_code == 401
    # a page answers 401 with the sign-in form, the API with JSON
    page = client.get("/dashboard")
    assert page.status_code == 401 and 'action="/session"' in page.text
    assert client.get("/api/agreement").json()["detail"].startswith("sign in")


def test_cookie_sessions_need_the_csrf_header_for_changes_and_admin_pages_need_an_admin(
    app_and_tokens,
):
    app, tokens, _, _ = app_and_tokens
    client = TestClient(app, base_url="http://labelling.test")
    signed = client.post(
        "/session", data={"token": tokens["bob"]}, follow_redirects=False,
        headers={"Origin": "http://labelling.test"},
    )  # fmt: skip
    assert signed.status_code == 303 and COOKIE in signed.cookies
    assert "httponly" in signed.headers["set-cookie"].lower()
    assert "samesite=strict" in signed.headers["set-cookie"].lower()
    body = {"item_id": str(data.FIRST_TWEET_ID), "label": "1"}
    assert client.post("/api/queues/tweets/labels", json=body).status_code == 403
    ok = client.post(
        "/api/queues/tweets/labels", json=body, headers={"X-CSRF-Token": csrf_token(tokens["bob"])}
    )
    assert ok.status_code == 201
    assert client.get("/admin").status_code == 403  # bob is no admin
    assert (
        client.post(
            "/session", data={"token": tokens["bob"]}, headers={"Origin": "http://evil.example"}
        ).status_code
        == 403
    )


def test_a_tweet_containing_markup_renders_as_text(app_and_tokens):
    app, tokens, _, _ = app_and_tokens
    client = TestClient(app, headers=bearer(tokens["alice"]))
    page = client.get("/queues/tweets", params={"item": str(data.FIRST_TWEET_ID)})
    assert page.status_code == 200
    assert "<script>window" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;&lt;img src=x onerror=" in page.text
    assert 'href="javascript:' not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    board = client.get("/dashboard")
    assert board.status_code == 200 and "&lt;script&gt;" in board.text
    assert "<script>window" not in board.text


def test_two_annotators_on_the_same_30_items_see_the_hand_computed_kappa(app_and_tokens):
    app, tokens, frame, _ = app_and_tokens
    client = TestClient(app)
    ids = [str(i) for i in frame["tweet_id"].head(30)]
    # alice says AI for the first 18, bob for items 3..17 and 25..29: 30 items, 15+5 = 20 AI
    alice = ["1" if i < 18 else "0" for i in range(30)]
    bob = ["1" if 3 <= i < 18 or i >= 25 else "0" for i in range(30)]
    for name, labels in (("alice", alice), ("bob", bob)):
        for item, label in zip(ids, labels):
            answer = client.post(
                "/api/queues/tweets/labels",
                json={"item_id": item, "label": label},
                headers=bearer(tokens[name]),
            )
            assert answer.status_code == 201
    # hand computation: agree on 15 (both 1) + 7 (both 0: items 18..24) = 22 of 30
    p_observed = 22 / 30
    p_expected = (18 / 30) * (20 / 30) + (12 / 30) * (10 / 30)
    kappa = (p_observed - p_expected) / (1 - p_expected)
    assert kappa == pytest.approx(3 / 7)  # (22/30 − 16/30) / (1 − 16/30) = 6/14
    page = client.get("/agreement", headers=bearer(tokens["carol"]))
    cell = re.search(
        r'<tr class="cohen" data-first="alice" data-second="bob">.*?<td class="kappa">([^<]+)</td>',
        page.text,
    )
    assert cell is not None and cell.group(1) == f"{kappa:.3f}"
    assert page.text.count("tweets?item=") == 8  # the 8 disagreements, linked for resolution
    figures = client.get("/api/agreement", headers=bearer(tokens["carol"])).json()["tweets"]
    assert figures["pairs"][0]["kappa"] == pytest.approx(kappa)
    assert figures["items"] == 30


def test_a_pair_shows_its_score_and_the_explanation_the_review_queue_carries(app_and_tokens):
    app, tokens, _, _ = app_and_tokens
    page = TestClient(app).get("/queues/pairs", headers=bearer(tokens["alice"]))

    assert page.status_code == 200
    assert "date_of_birth exact +7.5" in page.text and "P(match)" in page.text


def test_a_pair_becomes_feedback_only_once_k_annotators_agree_by_majority(app_and_tokens):
    app, tokens, _, queue = app_and_tokens
    client = TestClient(app)
    admin = client.post(
        "/api/admin/queues/pairs",
        json={"labels_per_item": 2, "random_share": 0.0},
        headers=bearer(tokens["alice"]),
    )
    assert admin.status_code == 201
    item = pair_item_id(queue["source_id"].iloc[0], queue["target_id"].iloc[0])

    def label(name: str, value: str) -> dict:
        answer = client.post(
            "/api/queues/pairs/labels",
            json={"item_id": item, "label": value},
            headers=bearer(tokens[name]),
        )
        assert answer.status_code == 201, answer.text
        return answer.json()

    assert label("alice", "1")["published"] is None  # one label of the two needed
    assert label("bob", "0")["published"] is None  # a tie: shown under disagreements
    assert label("carol", "1")["published"].startswith("feedback 1")
    feedback = postgres_feedback(app_and_tokens)
    assert list(feedback["label"]) == [1]
    assert len(feedback["modified_at"].iloc[0]) == len("2026-11-01T00:00:00.000000Z")


def postgres_feedback(app_and_tokens):
    app, *_ = app_and_tokens
    warehouse = app.state.settings.warehouse
    return warehouse.read_table(batches.LANDING_FEEDBACK)


def test_undo_takes_back_the_last_label_and_the_golden_table_follows(app_and_tokens):
    app, tokens, _, _ = app_and_tokens
    client = TestClient(app, headers=bearer(tokens["alice"]))
    first = client.get("/api/queues/tweets/next").json()["item"]["item_id"]
    client.post("/api/queues/tweets/labels", json={"item_id": first, "label": "1"})
    second = client.get("/api/queues/tweets/next").json()["item"]["item_id"]
    assert second != first
    client.post("/api/queues/tweets/labels", json={"item_id": second, "action": "skip"})
    assert client.post("/api/queues/tweets/undo").json()["item_id"] == second
    assert client.get("/api/queues/tweets/next").json()["item"]["item_id"] == second
    assert client.post("/api/queues/tweets/undo").json()["item_id"] == first
    client.post("/api/queues/tweets/labels", json={"item_id": first, "label": "0"})
    warehouse = app.state.settings.warehouse
    stored = golden.read(warehouse, "golden_labels").sort_values("labelled_at")
    # label 1, withdrawn by the undo, then 0: every row kept, the current label derived
    assert stored["label"].astype("object").where(stored["label"].notna(), None).tolist() == [
        1,
        None,
        0,
    ]
    assert golden.resolve(stored)["label"].tolist() == [0]
    assert client.post("/api/queues/tweets/undo").status_code == 200
    assert golden.resolve(golden.read(warehouse, "golden_labels")).empty
    assert client.post("/api/queues/tweets/undo").status_code == 409  # nothing left


def test_bad_requests_say_what_is_wrong_and_unassigned_queues_are_closed(app_and_tokens):
    app, tokens, _, _ = app_and_tokens
    client = TestClient(app)
    alice, bob = bearer(tokens["alice"]), bearer(tokens["bob"])
    wrong_label = client.post(
        "/api/queues/tweets/labels", json={"item_id": "1", "label": "m"}, headers=alice
    )
    assert wrong_label.status_code == 422 and "expected one of" in wrong_label.json()["detail"]
    unknown = client.post(
        "/api/queues/tweets/labels", json={"item_id": "123", "label": "1"}, headers=alice
    )
    assert unknown.status_code == 404
    assert client.get("/queues/nothing", headers=alice).status_code == 404
    assert (
        client.get("/queues/tweets", params={"item": "x'; DROP"}, headers=alice).status_code == 404
    )
    missing = client.post("/api/queues/tweets/labels", json={"label": "1"}, headers=alice)
    assert missing.status_code == 422 and "item_id" in missing.text
    assert (
        client.post(
            "/api/admin/assignments",
            json={"annotator": "bob", "queue": "pairs", "assigned": False},
            headers=bob,
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/admin/assignments",
            json={"annotator": "bob", "queue": "pairs", "assigned": False},
            headers=alice,
        ).status_code
        == 201
    )
    assert client.get("/queues/pairs", headers=bob).status_code == 403
    assert 'id="queue-pairs"' not in client.get("/", headers=bob).text
    assert client.get("/queues/pairs", headers=alice).status_code == 200


def test_on_an_empty_warehouse_every_page_renders_and_says_there_is_nothing_yet(sqlite_warehouse):
    settings, tokens = data.settings(sqlite_warehouse)
    client = TestClient(create_app(settings), headers=bearer(tokens["alice"]))
    for path in ("/", "/queues/tweets", "/queues/pairs", "/agreement", "/admin", "/dashboard"):
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text)
    assert 'id="queue-done"' in client.get("/queues/pairs").text
    assert 'id="no-tweets"' in client.get("/dashboard").text
    assert client.get("/api/queues/tweets/next").json()["item"] is None
