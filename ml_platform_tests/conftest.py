"""Fixtures over the real PostgreSQL and S3 (moto) servers that `scripts/services.sh` starts, an
app on a real uvicorn server over loopback, as a browser or curl reaches it, and the browser."""

import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Page, Route, sync_playwright

from ml_platform.core.warehouse import Warehouse


def service_env(name: str) -> str:
    """A variable exported by `start_services`; its absence means the servers were not started."""
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: run the tests with `bash scripts/test.sh`, which starts "
            "PostgreSQL and an S3 server and exports their addresses"
        )
    return value


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return service_env("ML_PLATFORM_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    return service_env("ML_PLATFORM_TEST_S3_ENDPOINT")


@pytest.fixture
def postgres_warehouse(postgres_url: str) -> Iterator[Warehouse]:
    """A Warehouse on a schema of its own, dropped afterwards, so tests never see each other's tables."""
    warehouse = Warehouse(url=postgres_url, db_schema=f"test_{uuid.uuid4().hex[:12]}")
    with warehouse.engine().begin() as conn:
        conn.execute(sa.schema.CreateSchema(warehouse.db_schema))
    yield warehouse
    with warehouse.engine().begin() as conn:
        conn.execute(sa.schema.DropSchema(warehouse.db_schema, cascade=True))
    warehouse.engine().dispose()


@pytest.fixture
def sqlite_warehouse(tmp_path) -> Warehouse:
    return Warehouse(url=f"sqlite:///{tmp_path / 'warehouse.db'}")


@pytest.fixture(params=["sqlite", "postgres"])
def warehouse(request: pytest.FixtureRequest) -> Warehouse:
    """Runs a test once per backend: behaviour must not depend on where the tables live."""
    return request.getfixturevalue(f"{request.param}_warehouse")


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    """The name of a new, empty bucket on the test S3 server."""
    name = f"test-{uuid.uuid4().hex[:16]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=name)
    return name


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture
def serve() -> Iterator[Callable[[FastAPI], str]]:
    """Starts an app on a free loopback port in a thread; its base URL. Stopped afterwards."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app: FastAPI) -> str:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        wait_until(lambda: server.started)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


# The README's screenshots are refreshed on request (ML_PLATFORM_UPDATE_SCREENSHOTS=1), so an
# ordinary test run never changes tracked files.
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture
def screenshots(tmp_path) -> Path:
    """Where browser tests save their screenshots: the README's folder when refreshing them."""
    return DOCS_SCREENSHOTS if os.environ.get("ML_PLATFORM_UPDATE_SCREENSHOTS") == "1" else tmp_path


@pytest.fixture
def blocked_requests() -> list[str]:
    """The URLs beyond loopback that pages of `browser_page` asked for (each one refused)."""
    return []


@pytest.fixture
def browser_page(blocked_requests: list[str]) -> Iterator[Page]:
    """Debian's chromium driven by playwright (never a downloaded browser), with no network
    beyond loopback: every other request is aborted and listed in `blocked_requests`, so a page
    that needs the internet shows it as it would offline."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is not installed (apt-get install chromium)")

    def loopback_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            blocked_requests.append(route.request.url)
            route.abort("internetdisconnected")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1100, "height": 800})
        context.route("**/*", loopback_only)
        yield context.new_page()
        browser.close()
