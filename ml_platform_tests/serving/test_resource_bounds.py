"""What a caller cannot make the app hold: cache entries for junk query strings, bodies over the
limit, connections whose request head never finishes."""

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from ml_platform.core.storage import ObjectStore
from ml_platform.serving import ServingSettings, create_app
from ml_platform.serving.models import ENTRY_OVERHEAD_BYTES, ResponseCache
from ml_platform.serving.protocol import GuardedHttpToolsProtocol
from ml_platform.serving.server import server_config
from ml_platform_tests.serving.test_app import (
    GENRES,
    HISTORY,
    POLL_SECONDS,
    TasteRecommender,
    free_port,
    store_model,
    wait_until,
)

LIMIT = 10_000


@pytest.fixture
def store(tmp_path) -> ObjectStore:
    store = ObjectStore(base_uri=str(tmp_path / "storage"))
    store_model(store, TasteRecommender(GENRES, HISTORY))
    return store


@pytest.fixture
def client(store) -> Iterator[TestClient]:
    settings = ServingSettings(
        object_store=store, reload_interval_seconds=POLL_SECONDS, max_body_bytes=LIMIT
    )
    with TestClient(create_app(settings)) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200)
        yield client


def cache_of(client: TestClient) -> ResponseCache:
    return client.app.state.models.get("recommender_model").responses


def test_junk_query_parameters_and_overlong_queries_are_answered_but_not_cached(client):
    for i in range(300):
        junk = client.get(f"/recommendations/1?k=2&junk{i}={'x' * 2000}")
        assert junk.status_code == 200
        padded = client.get(f"/recommendations/1?k={'0' * (600 + i)}2")
        assert padded.status_code == 200
        assert padded.content == junk.content
    assert len(cache_of(client)) == 0

    client.get("/recommendations/1?k=2")
    assert len(cache_of(client)) == 1


def test_the_cache_budget_counts_keys_as_well_as_answers():
    route = APIRoute("/recommendations/{user_id}", lambda user_id: None)
    cache = ResponseCache(max_bytes=1_000_000)
    for i in range(1_000):
        cache.put(("/recommendations/1", b"q=%d&" % i + b"x" * 10_000), b"{}", route)
        assert cache.bytes <= 1_000_000
    assert len(cache) < 1_000_000 // 10_000
    assert cache.bytes >= len(cache) * (10_000 + ENTRY_OVERHEAD_BYTES)


def ratings_body(size: int) -> bytes:
    rating = b'{"movie_id": 1, "rating": 4}'
    count = max(1, (size - 21) // (len(rating) + 2) + 1)  # the first whole one past `size`
    return b'{"k": 2, "ratings": [' + b", ".join([rating] * count) + b"]}"


@pytest.mark.parametrize(
    "path", ["/recommendations", "/score", "/v1/models/tweet_classifier:predict", "/nowhere"]
)
def test_a_declared_body_over_the_limit_is_413_unread(client, path):
    body = ratings_body(LIMIT + 1)
    declared = client.post(path, content=body, headers={"content-type": "application/json"})
    assert declared.status_code == 413
    assert f"larger than {LIMIT} bytes" in declared.json()["detail"]


@pytest.mark.parametrize("path", ["/recommendations", "/score"])
def test_a_chunked_body_is_413_once_it_passes_the_limit(client, path):
    body = ratings_body(LIMIT + 1)
    chunked = client.post(
        path,
        content=iter([body[:5000], body[5000:]]),  # no content-length: chunked
        headers={"content-type": "application/json"},
    )
    assert chunked.status_code == 413
    assert f"larger than {LIMIT} bytes" in chunked.json()["detail"]


def test_a_body_within_the_limit_is_answered(client):
    body = ratings_body(LIMIT - 100)
    answered = client.post(
        "/recommendations",
        content=b'{"k": 2, "ratings": [{"movie_id": 6, "rating": 5}]}',
        headers={"content-type": "application/json"},
    )
    assert answered.status_code == 200
    assert len(body) <= LIMIT
    # a large body within the limit reaches validation (too many ratings → 422)
    assert client.post("/recommendations", content=body).status_code == 422


@pytest.fixture
def server(store, monkeypatch) -> Iterator[int]:
    """The app under uvicorn as `ml-platform serve` configures it, head deadline 0.5 s."""
    monkeypatch.setattr(GuardedHttpToolsProtocol, "head_timeout_seconds", 0.5)
    settings = ServingSettings(object_store=store, reload_interval_seconds=POLL_SECONDS)
    port = free_port()
    config = server_config(create_app(settings), "127.0.0.1", port)
    config.log_level = "warning"
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started)
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def read_until_closed(sock: socket.socket, seconds: float) -> bytes:
    sock.settimeout(seconds)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_a_request_head_trickled_slowly_is_answered_408_and_closed(server):
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        try:
            for i in range(20):  # one header every 0.2 s: never the blank line ending the head
                sock.sendall(b"X-%d: y\r\n" % i)
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = read_until_closed(sock, seconds=5)
        assert time.monotonic() - started < 3
    assert answer.startswith(b"HTTP/1.1 408")


def test_a_silent_connection_is_closed_and_a_prompt_one_served(server):
    with socket.create_connection(("127.0.0.1", server)) as silent:
        assert read_until_closed(silent, seconds=5).startswith(b"HTTP/1.1 408")
    with socket.create_connection(("127.0.0.1", server)) as prompt:
        prompt.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert read_until_closed(prompt, seconds=5).startswith(b"HTTP/1.1 200")


def test_a_request_head_over_64_kib_is_answered_431(server):
    with socket.create_connection(("127.0.0.1", server)) as sock:
        try:
            sock.sendall(b"GET /recommendations/1?k=2&junk=" + b"x" * 100_000 + b" HTTP/1.1\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert read_until_closed(sock, seconds=5).startswith(b"HTTP/1.1 431")


def test_a_small_head_sent_with_a_large_body_in_one_write_is_served(server):
    """Head and the first 3 MB of body can reach the server in one read: only the head counts
    towards the head's limit (found by benchmarks/serving_isolation.py: urllib's large predict
    bodies were refused with 431 and a reset)."""
    body = ratings_body(3 * 2**20)
    head = (
        b"POST /recommendations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(head + body)
        answer = read_until_closed(sock, seconds=30)
    assert answer.startswith(b"HTTP/1.1 422"), answer[:200]  # too many ratings: validation ran


def test_a_header_over_64_kib_sent_in_pieces_is_answered_431(server):
    """The parser reports a header only once it is complete, so a long one still arriving is
    measured by the bytes read."""
    with socket.create_connection(("127.0.0.1", server)) as sock:
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Junk: ")
            for _ in range(10):
                sock.sendall(b"y" * 10_000)
                time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert read_until_closed(sock, seconds=5).startswith(b"HTTP/1.1 431")
