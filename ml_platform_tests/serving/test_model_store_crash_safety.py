"""A model writer killed mid-write (kill -9) or failing mid-write must leave the previous model
stored whole: the serving app keeps serving it, and a server started afterwards is ready."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

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

pytestmark = pytest.mark.s3

# Far more than one write buffer or pickle frame, so most of it has reached the file when the
# writer stops: an in-place write would leave a torn file of several MB.
PAYLOAD_BYTES = 8 * 2**20


class StallsWhilePickled:
    """Pickled after the payload: says so through `marker`, then hangs (to be killed) or raises."""

    def __init__(self, marker: str, fail: bool) -> None:
        self.marker = marker
        self.fail = fail

    def __reduce__(self) -> Any:
        Path(self.marker).touch()
        if self.fail:
            raise RuntimeError("serialization failed halfway")
        time.sleep(600)
        raise AssertionError("the writer should have been killed")


class HalfWrittenRecommender(TasteRecommender):
    """A recommender whose pickling stops after several MB have been written."""

    def __init__(self, marker: str, fail: bool) -> None:
        super().__init__(GENRES, {1: {2: 5.0}})
        self.payload = np.ones(PAYLOAD_BYTES // 8)
        self.stall = StallsWhilePickled(marker, fail)


def write_half_a_model(base_uri: str, endpoint_url: str | None, marker: str) -> None:
    """Entry point of the writer process the test kills."""
    store = ObjectStore(base_uri=base_uri, endpoint_url=endpoint_url)
    store_model(store, HalfWrittenRecommender(marker, fail=False))


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path) -> ObjectStore:
    if request.param == "local":
        return ObjectStore(base_uri=str(tmp_path / "storage"))
    return ObjectStore(
        base_uri=f"s3://{request.getfixturevalue('s3_bucket')}/platform",
        endpoint_url=request.getfixturevalue("s3_endpoint"),
    )


def first_recommendation(client: TestClient) -> int:
    response = client.get("/recommendations/1", params={"k": 1})
    assert response.status_code == 200, response.text
    return response.json()["recommendations"][0]["movie_id"]


def assert_previous_model_served(store: ObjectStore, version: str) -> None:
    assert isinstance(store.read_value("recommender_model"), TasteRecommender)
    settings = ServingSettings(object_store=store, reload_interval_seconds=POLL_SECONDS)
    with TestClient(create_app(settings)) as fresh:
        wait_until(lambda: fresh.get("/readyz").status_code == 200)
        assert fresh.get("/readyz").json()["models"]["recommender_model"] == version
        assert first_recommendation(fresh) == 2


def test_a_model_writer_killed_mid_write_leaves_the_previous_model_served(store, tmp_path):
    store_model(store, TasteRecommender(GENRES, HISTORY))
    settings = ServingSettings(object_store=store, reload_interval_seconds=POLL_SECONDS)
    marker = tmp_path / "half-written"
    with TestClient(create_app(settings)) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200)
        version = client.get("/readyz").json()["models"]["recommender_model"]
        assert first_recommendation(client) == 2

        code = (
            "import sys; from ml_platform_tests.serving.test_model_store_crash_safety import "
            "write_half_a_model as w; w(*sys.argv[1:])"
        )
        writer = subprocess.Popen(
            [sys.executable, "-c", code, store.base_uri, store.endpoint_url or "", str(marker)],
            cwd=Path(__file__).resolve().parents[2],
            env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        )
        try:
            wait_until(marker.exists, seconds=240)  # the writer imports dagster first
            time.sleep(0.2)  # the payload's bytes reach the file (or the upload buffer)
            os.kill(writer.pid, signal.SIGKILL)
        finally:
            writer.kill()
            assert writer.wait(timeout=10) == -signal.SIGKILL

        time.sleep(10 * POLL_SECONDS)  # polls that would pick up (and fail on) a torn file
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["models"]["recommender_model"] == version
        assert first_recommendation(client) == 2

    assert_previous_model_served(store, version)


def test_a_model_that_fails_to_serialize_halfway_leaves_the_previous_model_stored(store, tmp_path):
    store_model(store, TasteRecommender(GENRES, HISTORY))
    settings = ServingSettings(object_store=store, reload_interval_seconds=POLL_SECONDS)
    with TestClient(create_app(settings)) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200)
        version = client.get("/readyz").json()["models"]["recommender_model"]

    marker = tmp_path / "half-written"
    with pytest.raises(Exception):  # noqa: B017 (dagster wraps the RuntimeError)
        store_model(store, HalfWrittenRecommender(str(marker), fail=True))
    assert marker.exists()  # it failed halfway through pickling, not before

    assert_previous_model_served(store, version)
    leftovers = [p.name for p in store.path().iterdir()]
    assert leftovers == ["recommender_model.joblib"]
