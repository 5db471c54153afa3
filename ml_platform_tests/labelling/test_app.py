"""The app as annotators and attackers meet it: tokens on every route, sessions, CSRF, escaping,
agreement figures, k labels per item, admin assignments and the dashboard's window — on SQLite
(the local default) and PostgreSQL alike."""

import re
import time
from datetime import timedelta

import pandas as pd
import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from ml_platform.entity_matching import batches
from ml_platform.labelling.app import COOKIE, create_app
from ml_platform.labelling.queues import pair_item_id
from ml_platform.tweets import golden
from ml_platform_tests.labelling import data


@pytest.fixture
def app_and_tokens(warehouse):
    """The app over the tables a `tweets_job` and an entity-matching batch leave behind."""
    frame = data.tweets(40)
    data.land_tweets(warehouse, frame)
    queue = data.land_pairs(warehouse, pairs=12)
    settings, tokens = data.settings(warehouse)
    return create_app(settings), tokens, frame, queue


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_without_a_token_every_route_answers_401_or_403(app_and_tokens):
    app = app_and_tokens[0]
    client = TestClient(app)
    routes = {context.path for context in iter_route_contexts(app.routes)} - PUBLIC
    paths = routes | {"/no/such/page", "/api/no/such"}
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
    site = {"Origin": "http://testserver"}
    assert client.post("/session", data={"token": "wrong" * 5}, headers=site).status_code == 401
    # a page answers 401 with the sign-in form, the API with JSON
    page = client.get("/dashboard")
    assert page.status_code == 401 and 'action="/session"' in page.text
    assert client.get("/api/agreement").json()["detail"].startswith("sign in")


# the same for everyone: the sign-in page's CSS and JavaScript, and Prometheus' counts
PUBLIC = {"/static", "/metrics"}


def test_static_files_and_metrics_answer_without_a_token_and_count_every_request(app_and_tokens):
    client = TestClient(app_and_tokens[0])

    signin = client.get("/queues/tweets")
    css = client.get("/static/labelling.css")
    js = client.get("/static/labelling.js")
    missing = client.get("/static/nothing.css")
    posted = client.post("/static/labelling.css")
    metrics = client.get("/metrics")

    assert signin.status_code == 401 and 'href="/static/labelling.css"' in signin.text
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "body" in css.text
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert missing.status_code == 404 and posted.status_code == 401
    assert metrics.status_code == 200
    counted = dict(
        re.findall(
            r"^ml_platform_labelling_http_requests_total\{(.*)\} (\S+)$", metrics.text, re.MULTILINE
        )
    )
    # the gate answers before routing: a refused request has no route to name
    assert counted['method="GET",route="unmatched",status="401"'] == "1.0"
    assert counted['method="GET",route="/static/{path}",status="200"'] == "2.0"
    assert counted['method="GET",route="/static/{path}",status="404"'] == "1.0"
    assert counted['method="POST",route="unmatched",status="401"'] == "1.0"


SITE = "https://labelling.test"


def sign_in(client: TestClient, token: str, **headers: str):
    return client.post(
        "/session", data={"token": token}, follow_redirects=False,
        headers={"Origin": SITE, **headers},
    )  # fmt: skip


def page_csrf(client: TestClient) -> str:
    found = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', client.get("/").text)
    assert found is not None
    return found.group(1)


def test_cookie_sessions_need_the_csrf_header_for_changes_and_admin_pages_need_an_admin(
    app_and_tokens,
):
    app, tokens, _, _ = app_and_tokens
    client = TestClient(app, base_url=SITE)
    signed = sign_in(client, tokens["bob"])
    assert signed.status_code == 303 and COOKIE in signed.cookies
    assert "httponly" in signed.headers["set-cookie"].lower()
    assert "samesite=strict" in signed.headers["set-cookie"].lower()
    body = {"item_id": str(data.FIRST_TWEET_ID), "label": "1"}
    assert client.post("/api/queues/tweets/labels", json=body).status_code == 403
    ok = client.post(
        "/api/queues/tweets/labels", json=body, headers={"X-CSRF-Token": page_csrf(client)}
    )
    assert ok.status_code == 201
    assert client.get("/admin").status_code == 403  # bob is no admin
    assert sign_in(client, tokens["bob"], Origin="http://evil.example").status_code == 403


def test_the_session_cookie_is_signed_expiring_and_never_the_token(app_and_tokens):
    app, tokens, _, _ = app_and_tokens
    client = TestClient(app, base_url=SITE)
    signed = sign_in(client, tokens["bob"])
    cookie = signed.cookies[COOKIE]
    header = signed.headers["set-cookie"].lower()
    assert tokens["bob"] not in cookie and tokens["bob"] not in signed.headers["set-cookie"]
    assert "max-age=43200" in header and "expires=" in header  # 12 hours by default
    assert "; secure" in header  # not a loopback address: Secure by default
    assert client.get("/").status_code == 200
    # altered: a different session id, expiry or signature is no session
    session_id, expiry, signature = cookie.split(".")

    def changed(text: str) -> str:
        return text[:-1] + ("B" if text[-1] == "A" else "A")

    for forged in (
        f"{changed(session_id)}.{expiry}.{signature}",
        f"{session_id}.{int(expiry) + 3600}.{signature}",
        f"{session_id}.{expiry}.{changed(signature)}",
        tokens["bob"],  # what the cookie used to hold
    ):
        other = TestClient(app, base_url=SITE, cookies={COOKIE: forged})
        assert other.get("/").status_code == 401, forged


def test_signing_out_revokes_the_session_even_for_a_copy_of_its_cookie(app_and_tokens):
    app, tokens, _, _ = app_and_tokens
    client = TestClient(app, base_url=SITE)
    cookie = sign_in(client, tokens["alice"]).cookies[COOKIE]
    copy = TestClient(app, base_url=SITE, cookies={COOKIE: cookie})
    assert copy.get("/").status_code == 200
    out = client.post("/api/signout", headers={"X-CSRF-Token": page_csrf(client)})
    assert out.status_code == 200 and out.json() == {"signed_out": True}
    assert copy.get("/").status_code == 401
    assert copy.get("/api/queues/tweets/next").status_code == 401
    # the revocation is in the warehouse: a new app process over it refuses the cookie too
    restarted = TestClient(create_app(app.state.settings), base_url=SITE, cookies={COOKIE: cookie})
    assert restarted.get("/").status_code == 401


def test_a_session_ends_when_it_expires(postgres_warehouse):
    settings, tokens = data.settings(postgres_warehouse, session_lifetime=timedelta(seconds=1))
    client = TestClient(create_app(settings), base_url=SITE)
    assert sign_in(client, tokens["carol"]).status_code == 303
    assert client.get("/").status_code == 200
    time.sleep(1.2)
    assert client.get("/").status_code == 401


def test_sign_in_needs_this_sites_origin_or_referer_and_is_rate_limited(app_and_tokens):
    app, tokens, _, _ = app_and_tokens
    client = TestClient(app, base_url=SITE)
    form = {"token": tokens["alice"]}
    assert client.post("/session", data=form, follow_redirects=False).status_code == 403
    for origin in ("null", "https://evil.example", "https://labelling.test.evil.example"):
        answer = client.post("/session", data=form, headers={"Origin": origin})
        assert answer.status_code == 403, origin
    by_referer = client.post(
        "/session", data=form, follow_redirects=False, headers={"Referer": f"{SITE}/queues"}
    )
    assert by_referer.status_code == 303
    # five wrong tokens a minute from one address, then 429 even for the right one
    for _ in range(5):
        assert sign_in(client, "wrong-token-" * 3).status_code == 401
    limited = sign_in(client, tokens["alice"])
    assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 60


def test_on_loopback_the_cookie_is_not_secure_and_a_secret_can_be_given(postgres_warehouse):
    settings, tokens = data.settings(postgres_warehouse, session_secret=b"s" * 32)
    client = TestClient(create_app(settings), base_url="http://127.0.0.1:8100")
    signed = sign_in(client, tokens["bob"], Origin="http://127.0.0.1:8100")
    assert signed.status_code == 303 and "secure" not in signed.headers["set-cookie"].lower()
    # the same secret in another process (a restart) keeps the session
    again = create_app(settings)
    cookie = {COOKIE: signed.cookies[COOKIE]}
    reached = TestClient(again, base_url="http://127.0.0.1:8100", cookies=cookie).get("/")
    assert reached.status_code == 200


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


def test_after_a_classification_home_and_the_tweet_queue_render(app_and_tokens):
    app, tokens, _, _ = app_and_tokens  # both tweet tables have a tweet_id column now
    client = TestClient(app, headers=bearer(tokens["alice"]))
    for path in ("/", "/queues/tweets", "/api/queues/tweets/next"):
        assert client.get(path).status_code == 200, path
    assert client.get("/api/queues/tweets/next").json()["item"]["item_id"] == str(
        data.FIRST_TWEET_ID
    )


@pytest.mark.parametrize("item", ["²", "١٢٣", "99999999999999999999", "9223372036854775808"])
def test_an_item_id_no_tweet_can_have_is_not_found(app_and_tokens, item):
    app, tokens, _, _ = app_and_tokens
    client = TestClient(app, headers=bearer(tokens["alice"]))
    assert client.get("/queues/tweets", params={"item": item}).status_code == 404
    labelled = client.post("/api/queues/tweets/labels", json={"item_id": item, "label": "1"})
    assert labelled.status_code == 404


def board_figures(answer) -> tuple[int, int]:
    """(AI tweets counted, bars drawn) of a dashboard page."""
    total = re.search(r'id="total">(\d+)<', answer.text)
    return (int(total.group(1)) if total else 0), answer.text.count("<rect")


def test_the_dashboard_answers_any_window_within_its_maximum_range(app_and_tokens):
    app, tokens, frame, _ = app_and_tokens
    client = TestClient(app, headers=bearer(tokens["alice"]))
    ai = int((frame["probability"] >= 0.5).sum())
    for window in (
        {"since": "1900-01-01"},
        {"since": "0001-01-01T00:00"},
        {"since": "1970-01-01", "until": "2199-12-31T23:59"},
    ):
        answer = client.get("/dashboard", params=window)
        assert answer.status_code == 200, (window, answer.text)
        total, bars = board_figures(answer)
        # the 7 days up to the newest AI tweet: every tweet (they span 10 hours), 169 bars
        assert total == ai and bars == 169, window
        assert len(answer.content) < 100_000 and 'id="shortened"' in answer.text
    cleared = client.get("/dashboard", params={"since": "", "until": ""})
    assert cleared.status_code == 200 and board_figures(cleared)[0] == ai


def test_the_dashboard_takes_offsets_and_unix_time_and_refuses_what_no_tweet_has(
    app_and_tokens,
):
    app, tokens, frame, _ = app_and_tokens
    client = TestClient(app, headers=bearer(tokens["alice"]))
    start = int(data.START.timestamp())  # 2026-11-20 08:00 UTC
    same = [
        {"since": "2026-11-20T08:00:00Z", "until": "2026-11-20T12:00:00Z"},
        {"since": "2026-11-20T09:00:00+01:00", "until": "2026-11-20T13:00:00+01:00"},
        {"since": "2026-11-20T03:00:00-05:00", "until": "2026-11-20T07:00:00-05:00"},
        {"since": str(start), "until": str(start + 4 * 3600)},
        {"since": "2026-11-20T08:00", "until": "2026-11-20T12:00"},  # no offset: UTC
    ]
    ai = frame[frame["probability"] >= 0.5]
    expected = int((ai["created_at"] <= data.START + timedelta(hours=4)).sum())
    assert expected > 0
    for window in same:
        answer = client.get("/dashboard", params=window)
        assert answer.status_code == 200, (window, answer.text)
        assert board_figures(answer) == (expected, 5), window
    for window in ({"until": "0001-01-01T00:00"}, {"until": "1969-12-31"}, {"since": "9999-01-01"},
                   {"since": "2026-11-21", "until": "2026-11-20"}, {"since": "yesterday"}):  # fmt: skip
        answer = client.get("/dashboard", params=window)
        assert answer.status_code == 422, (window, answer.status_code)


def test_undoing_a_published_pair_label_withdraws_it_from_entity_matching(app_and_tokens):
    app, tokens, _, _ = app_and_tokens
    client = TestClient(app, headers=bearer(tokens["alice"]))
    item = client.get("/api/queues/pairs/next").json()["item"]["item_id"]
    source_id, target_id = item.split("|")
    labelled = client.post("/api/queues/pairs/labels", json={"item_id": item, "label": "1"})
    assert labelled.json()["published"].startswith("feedback 1")

    undone = client.post("/api/queues/pairs/undo")

    assert undone.json() == {
        "item_id": item,
        "published": f"feedback for {source_id} / {target_id} withdrawn",
    }
    landed = postgres_feedback(app_and_tokens).sort_values("modified_at")
    assert landed[["source_id", "target_id"]].drop_duplicates().values.tolist() == [
        [source_id, target_id]
    ]
    assert landed["label"].tolist()[0] == 1 and pd.isna(landed["label"].tolist()[1])
    assert landed["modified_at"].iloc[1] > landed["modified_at"].iloc[0]  # the newer row wins
    # labelled again the other way: a new label, nothing more withdrawn
    again = client.post("/api/queues/pairs/labels", json={"item_id": item, "label": "0"})
    assert again.json()["published"].startswith("feedback 0")
    assert postgres_feedback(app_and_tokens).sort_values("modified_at")["label"].iloc[-1] == 0


def test_an_undo_never_withdraws_a_label_the_ui_did_not_write(app_and_tokens):
    app, tokens, _, _ = app_and_tokens
    warehouse = app.state.settings.warehouse
    client = TestClient(app, headers=bearer(tokens["alice"]))
    item = client.get("/api/queues/pairs/next").json()["item"]["item_id"]
    source_id, target_id = item.split("|")
    # the operational system landed 1 for the pair; the annotator agrees, then takes it back
    batches.land(
        warehouse,
        batches.LANDING_FEEDBACK,
        pd.DataFrame(
            {
                "source_id": [source_id],
                "target_id": [target_id],
                "label": [1],
                "modified_at": ["2026-11-01T00:00:00Z"],
            }
        ),
    )
    labelled = client.post("/api/queues/pairs/labels", json={"item_id": item, "label": "1"})
    assert labelled.json()["published"] is None  # already the landed label

    assert client.post("/api/queues/pairs/undo").json()["published"] is None

    assert postgres_feedback(app_and_tokens)["label"].tolist() == [1]
