"""`ml-platform serve --workers N`: processes sharing the port through SO_REUSEPORT."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port: int, path: str, sock: socket.socket | None = None) -> bytes:
    """One keep-alive GET on `sock` (a new connection without one); the raw response."""
    connection = sock or socket.create_connection(("127.0.0.1", port), timeout=5)
    connection.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    return connection.recv(65536)


@pytest.fixture
def start_server(tmp_path):
    servers: list[subprocess.Popen] = []

    def start(workers: int) -> tuple[subprocess.Popen, int, Path]:
        port, log = free_port(), tmp_path / f"server-{len(servers)}.log"
        env = {**os.environ, "ML_PLATFORM_ENV": "local", "ML_PLATFORM_HOME": str(tmp_path)}
        env.pop("ML_PLATFORM_STORAGE_URI", None)
        server = subprocess.Popen(
            [sys.executable, "-m", "ml_platform.cli", "serve", "--port", str(port)]
            + ["--workers", str(workers)],
            env=env,
            stderr=log.open("wb"),
        )
        servers.append(server)
        deadline = time.monotonic() + 60
        answering = set()
        while len(answering) < workers:  # every worker has bound its socket and answers
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if get(port, "/healthz").startswith(b"HTTP/1.1 200"):
                    answering = {line["pid"] for line in logged_requests(log)}
            except OSError:
                time.sleep(0.1)
        return server, port, log

    yield start
    for server in servers:
        if server.poll() is None:
            server.kill()
            server.wait()


def logged_requests(log: Path) -> list[dict]:
    complete = log.read_text().split("\n")[:-1]  # the last may be a line being written
    lines = [json.loads(line) for line in complete if line.startswith("{")]
    return [line for line in lines if line["logger"] == "ml_platform.serving.requests"]


def test_two_workers_share_the_connections_and_stop_cleanly_on_sigterm(start_server):
    server, port, log = start_server(workers=2)
    connections = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(40)]

    answers = [get(port, "/healthz", sock) for sock in connections]
    for sock in connections:
        sock.close()

    assert all(answer.startswith(b"HTTP/1.1 200") for answer in answers)
    per_worker: dict[int, int] = {}
    for line in logged_requests(log)[-40:]:
        per_worker[line["pid"]] = per_worker.get(line["pid"], 0) + 1
    # 40 connections hashed over 2 sockets: each gets some (all on one: p = 2^-39)
    assert len(per_worker) == 2 and min(per_worker.values()) >= 5, per_worker
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=30) == 0


def test_a_worker_that_dies_stops_the_whole_server_with_an_error(start_server):
    server, port, log = start_server(workers=2)
    worker = logged_requests(log)[-1]["pid"]

    os.kill(worker, signal.SIGKILL)

    try:
        assert server.wait(timeout=30) != 0
    except subprocess.TimeoutExpired:
        raise AssertionError(log.read_text()[-3000:]) from None
    with pytest.raises(OSError):
        get(port, "/healthz")
