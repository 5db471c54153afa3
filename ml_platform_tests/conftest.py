"""Fixtures over the real PostgreSQL and S3 (moto) servers that `scripts/services.sh` starts, and
an app on a real uvicorn server over loopback, as a browser or curl reaches it."""

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import boto3
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI

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
