"""Every export is registered in Glue (moto's Glue, on the moto server `scripts/services.sh`
starts): tables Terraform does not define are created from the exported columns."""

import io
import uuid

import boto3
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from ml_platform.core.catalog import DataCatalog
from ml_platform.core.exports import export_partition
from ml_platform.core.storage import ObjectStore


@pytest.fixture
def glue(s3_endpoint):
    return boto3.client("glue", endpoint_url=s3_endpoint)


@pytest.fixture
def exporting(s3_bucket, s3_endpoint, glue):
    """An object store on S3 and a catalog over a new, empty Glue database."""
    database = f"ml_platform_{uuid.uuid4().hex[:12]}"
    glue.create_database(DatabaseInput={"Name": database})
    store = ObjectStore(base_uri=f"s3://{s3_bucket}/platform", endpoint_url=s3_endpoint)
    return store, DataCatalog(glue_database=database, endpoint_url=s3_endpoint)


def product_vectors(dimensions: int) -> pd.DataFrame:
    """The shape prod2vec's `product_vectors` exports: ids, names, counts, one column per dim."""
    rng = np.random.default_rng(dimensions)
    table = pd.DataFrame(
        {
            "product_id": np.array([3, 7], dtype=np.int64),
            "product_name": ["Banana", "Oat Milk"],
            "purchases": np.array([120, 45], dtype=np.int64),
        }
    )
    vectors = pd.DataFrame(
        rng.random((2, dimensions)), columns=[f"v_{i}" for i in range(dimensions)]
    )
    return pd.concat([table, vectors], axis=1)


def tuning_trials() -> pd.DataFrame:
    """The shape of `prod2vec_tuning_trials`: a column no trial filled is all None."""
    return pd.DataFrame(
        {
            "trial": [0, 1],
            "state": ["COMPLETE", "PRUNED"],
            "hr_at_10": [0.21, np.nan],
            "embedding_dim": [32, 64],
            "learning_rate": [0.01, 0.03],
            "last_reported_hr_at_10": [None, None],
        }
    )


def test_an_export_without_a_terraform_table_creates_its_glue_table_and_partition(
    exporting, glue, s3_bucket
):
    store, catalog = exporting

    written = export_partition(
        product_vectors(3), "product_vectors", "version", "1", object_store=store, catalog=catalog
    )

    assert written["glue_partition"] == (
        f"{catalog.glue_database}.product_vectors (table created, created)"
    )
    table = glue.get_table(DatabaseName=catalog.glue_database, Name="product_vectors")["Table"]
    assert table["PartitionKeys"] == [{"Name": "version", "Type": "string"}]
    storage = table["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in storage["Columns"]] == [
        ("product_id", "bigint"), ("product_name", "string"), ("purchases", "bigint"),
        ("v_0", "double"), ("v_1", "double"), ("v_2", "double"),
    ]  # fmt: skip
    assert storage["Location"] == f"s3://{s3_bucket}/platform/exports/product_vectors/"
    assert storage["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    partitions = glue.get_partitions(
        DatabaseName=catalog.glue_database, TableName="product_vectors"
    )
    assert [
        (p["Values"], p["StorageDescriptor"]["Location"]) for p in partitions["Partitions"]
    ] == [(["1"], f"s3://{s3_bucket}/platform/exports/product_vectors/version=1/")]
    # the Glue columns are the Parquet file's, in its order
    parquet = pq.read_schema(io.BytesIO(store.path(
        "exports/product_vectors/version=1/part-0.parquet").read_bytes()))  # fmt: skip
    assert parquet.names == [c["Name"] for c in storage["Columns"]]


def test_a_later_export_with_more_columns_adds_them_and_a_repeat_adds_no_partition(exporting, glue):
    store, catalog = exporting
    export_partition(
        product_vectors(2), "product_vectors", "version", "1", object_store=store, catalog=catalog
    )

    wider = export_partition(
        product_vectors(4), "product_vectors", "version", "2", object_store=store, catalog=catalog
    )
    again = export_partition(
        product_vectors(4), "product_vectors", "version", "2", object_store=store, catalog=catalog
    )

    assert wider["glue_partition"].endswith("(columns added, created)")
    assert again["glue_partition"].endswith("(updated)")
    table = glue.get_table(DatabaseName=catalog.glue_database, Name="product_vectors")["Table"]
    names = [c["Name"] for c in table["StorageDescriptor"]["Columns"]]
    assert names[-4:] == ["v_0", "v_1", "v_2", "v_3"] and len(names) == 7
    partitions = glue.get_partitions(
        DatabaseName=catalog.glue_database, TableName="product_vectors"
    )
    assert sorted(p["Values"][0] for p in partitions["Partitions"]) == ["1", "2"]


def test_tuning_trials_register_with_an_all_empty_column_as_string(exporting, glue):
    store, catalog = exporting

    export_partition(
        tuning_trials(), "prod2vec_tuning_trials", "version", "5", object_store=store,
        catalog=catalog,
    )  # fmt: skip

    table = glue.get_table(DatabaseName=catalog.glue_database, Name="prod2vec_tuning_trials")
    columns = {c["Name"]: c["Type"] for c in table["Table"]["StorageDescriptor"]["Columns"]}
    assert columns == {
        "trial": "bigint", "state": "string", "hr_at_10": "double", "embedding_dim": "bigint",
        "learning_rate": "double", "last_reported_hr_at_10": "string",
    }  # fmt: skip


def test_a_table_partitioned_by_another_key_is_an_error_naming_both(exporting, glue):
    store, catalog = exporting
    export_partition(
        product_vectors(2), "product_vectors", "version", "1", object_store=store, catalog=catalog
    )

    with pytest.raises(ValueError, match=r"partitioned by \['version'\], not by \['batch'\]"):
        export_partition(
            product_vectors(2), "product_vectors", "batch", "b1", object_store=store,
            catalog=catalog,
        )  # fmt: skip


def test_without_a_glue_database_exports_register_nothing(tmp_path):
    written = export_partition(
        product_vectors(2), "product_vectors", "version", "1",
        object_store=ObjectStore(base_uri=str(tmp_path)), catalog=DataCatalog(),
    )  # fmt: skip

    assert "glue_partition" not in written
    assert (tmp_path / "exports/product_vectors/version=1/part-0.parquet").is_file()
