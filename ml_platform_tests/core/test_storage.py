import shutil
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from upath import UPath

from ml_platform.core.storage import ObjectStore, ObjectStoreIOManager, publish_directory

pytestmark = pytest.mark.s3

DAYS = dg.StaticPartitionsDefinition(["2024-01-01", "2024-01-02"])


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path) -> ObjectStore:
    if request.param == "local":
        return ObjectStore(base_uri=str(tmp_path / "storage"))
    bucket = request.getfixturevalue("s3_bucket")
    return ObjectStore(
        base_uri=f"s3://{bucket}/platform", endpoint_url=request.getfixturevalue("s3_endpoint")
    )


def stored_files(store: ObjectStore) -> set[str]:
    base = store.path()
    return {str(p.relative_to(base)) for p in base.rglob("*") if p.is_file()}


def store_and_reload(store: ObjectStore, value: Any) -> tuple[Any, dg.ExecuteInProcessResult]:
    """Materialize `value` as an asset, then hand it to a downstream asset that loads it back."""

    @dg.asset
    def stored() -> Any:
        return value

    @dg.asset
    def reloaded(stored: Any) -> Any:
        return stored

    result = dg.materialize(
        [stored, reloaded], resources={"io_manager": ObjectStoreIOManager(store=store)}
    )
    return result.output_for_node("reloaded"), result


def test_dataframe_is_stored_as_parquet_with_its_path_and_row_count(store):
    frame = pd.DataFrame(
        {
            "name": ["Ann", None, ""],
            "age": [31, 42, 7],
            "score": [0.5, np.nan, 1.25],
            "seen_at": pd.to_datetime(["2024-01-01", "2024-02-01", None], utc=True),
        }
    )

    loaded, result = store_and_reload(store, frame)

    pd.testing.assert_frame_equal(loaded, frame)
    assert "stored.parquet" in stored_files(store)
    metadata = result.asset_materializations_for_node("stored")[0].metadata
    assert metadata["path"].value.endswith("stored.parquet")
    assert metadata["dagster/row_count"].value == 3


def test_array_is_stored_as_npy(store):
    vectors = np.random.default_rng(0).normal(size=(4, 8)).astype(np.float32)

    loaded, _ = store_and_reload(store, vectors)

    np.testing.assert_array_equal(loaded, vectors)
    assert loaded.dtype == np.float32
    assert "stored.npy" in stored_files(store)


def test_plain_dict_is_stored_as_readable_json(store):
    metrics = {"auc": 0.91, "threshold": 0.5, "features": ["surname", "dob"], "params": {"k": 3}}

    loaded, _ = store_and_reload(store, metrics)

    assert loaded == metrics
    assert store.path("stored.json").read_text().startswith('{"auc": 0.91')


def test_dict_that_json_would_change_is_kept_exact_with_joblib(store):
    lookup = {1: ("a", "b"), 2: ("c",)}  # int keys and tuples do not survive JSON

    loaded, _ = store_and_reload(store, lookup)

    assert loaded == lookup
    assert "stored.joblib" in stored_files(store)


def test_fitted_model_is_stored_with_joblib_and_predicts_the_same(store):
    features = np.random.default_rng(1).normal(size=(50, 3))
    labels = (features[:, 0] > 0).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(features, labels)

    loaded, _ = store_and_reload(store, model)

    np.testing.assert_array_equal(loaded.predict_proba(features), model.predict_proba(features))
    assert "stored.joblib" in stored_files(store)


def test_value_whose_type_changed_loads_in_its_new_format(store):
    store_and_reload(store, {"version": 1})

    loaded, _ = store_and_reload(store, pd.DataFrame({"version": [2]}))

    assert loaded["version"].tolist() == [2]
    assert stored_files(store) == {"stored.parquet", "reloaded.parquet"}


def test_partitions_land_under_the_asset_and_load_together_downstream(store):
    @dg.asset(partitions_def=DAYS)
    def daily_counts(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return pd.DataFrame({"day": [context.partition_key], "count": [len(context.partition_key)]})

    @dg.asset
    def all_counts(daily_counts: dict[str, pd.DataFrame]) -> pd.DataFrame:
        return pd.concat(daily_counts.values(), ignore_index=True)

    resources = {"io_manager": ObjectStoreIOManager(store=store)}
    for day in DAYS.get_partition_keys():
        dg.materialize([daily_counts], partition_key=day, resources=resources)
    result = dg.materialize([daily_counts, all_counts], selection=[all_counts], resources=resources)

    assert sorted(result.output_for_node("all_counts")["day"]) == ["2024-01-01", "2024-01-02"]
    assert stored_files(store) == {
        "daily_counts/2024-01-01.parquet",
        "daily_counts/2024-01-02.parquet",
        "all_counts.parquet",
    }


def test_export_is_written_beside_the_asset_data(store):
    uri = store.write_bytes("exports/em_matches/2024-01-01.csv", b"source_id,target_id\n1,2\n")

    assert uri.endswith("exports/em_matches/2024-01-01.csv")
    assert (
        store.path("exports/em_matches/2024-01-01.csv").read_bytes()
        == b"source_id,target_id\n1,2\n"
    )


def test_s3_objects_are_keyed_by_prefix_asset_and_partition(s3_bucket, s3_endpoint):
    store = ObjectStore(base_uri=f"s3://{s3_bucket}/platform", endpoint_url=s3_endpoint)

    @dg.asset(partitions_def=DAYS)
    def daily_counts() -> pd.DataFrame:
        return pd.DataFrame({"count": [1]})

    dg.materialize(
        [daily_counts],
        partition_key="2024-01-02",
        resources={"io_manager": ObjectStoreIOManager(store=store)},
    )
    store.write_bytes("exports/em_matches/2024-01-02.csv", b"x\n")

    listing = boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket=s3_bucket)
    assert {obj["Key"] for obj in listing["Contents"]} == {
        "platform/daily_counts/2024-01-02.parquet",
        "platform/exports/em_matches/2024-01-02.csv",
    }


def test_an_asset_can_read_its_own_previous_value_for_a_warm_start(tmp_path):
    store = ObjectStore(base_uri=str(tmp_path))
    assert store.read_value("model") is None

    @dg.asset
    def model() -> dict[str, list[int]]:
        return {"weights": [1, 2, 3]}

    dg.materialize([model], resources={"io_manager": ObjectStoreIOManager(store=store)})
    assert store.read_value("model") == {"weights": [1, 2, 3]}


def saved_model_folder(tmp_path) -> Path:
    folder = tmp_path / "unpacked"
    (folder / "variables").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"graph")
    (folder / "variables" / "variables.index").write_bytes(b"index")
    (folder / "variables" / "variables.data-00000-of-00001").write_bytes(b"weights")
    return folder


def test_a_published_folder_appears_whole_in_one_rename(tmp_path):
    target = UPath(tmp_path / "serving" / "3")

    publish_directory(saved_model_folder(tmp_path), target, last=("saved_model.pb",))

    assert sorted(p.name for p in Path(target.path).rglob("*") if p.is_file()) == [
        "saved_model.pb",
        "variables.data-00000-of-00001",
        "variables.index",
    ]
    assert [p.name for p in (tmp_path / "serving").iterdir()] == ["3"]  # no temporary left


def test_a_copy_that_fails_halfway_leaves_no_version_folder_for_a_watcher(tmp_path):
    source = saved_model_folder(tmp_path)
    (source / "variables" / "vanished").symlink_to(tmp_path / "deleted-while-copying")

    with pytest.raises(shutil.Error, match="vanished"):  # raised after the other files copied
        publish_directory(source, UPath(tmp_path / "serving" / "3"))

    assert list((tmp_path / "serving").iterdir()) == []


def test_on_s3_the_files_a_loader_starts_from_are_uploaded_last(
    s3_bucket, s3_endpoint, tmp_path, monkeypatch
):
    store = ObjectStore(base_uri=f"s3://{s3_bucket}/platform", endpoint_url=s3_endpoint)
    target = store.path("tweet_classifier_serving/3")
    uploaded = []
    real_put_file = target.fs.put_file

    def recording_put_file(local, remote, **kwargs):
        uploaded.append(remote.rsplit("/", 1)[-1])
        return real_put_file(local, remote, **kwargs)

    monkeypatch.setattr(target.fs, "put_file", recording_put_file)  # the real upload, recorded
    publish_directory(saved_model_folder(tmp_path), target, last=("saved_model.pb",))

    assert uploaded[-1] == "saved_model.pb" and len(uploaded) == 3
    listing = boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket=s3_bucket)
    assert {obj["Key"] for obj in listing["Contents"]} == {
        "platform/tweet_classifier_serving/3/saved_model.pb",
        "platform/tweet_classifier_serving/3/variables/variables.index",
        "platform/tweet_classifier_serving/3/variables/variables.data-00000-of-00001",
    }
