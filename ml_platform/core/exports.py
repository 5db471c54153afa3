"""Exported datasets: what downstream consumers (Athena, people with spreadsheets) read.

Parquet goes to `exports/<dataset>/<key>=<value>/part-0.parquet`, the Hive layout a Glue table
over `exports/<dataset>/` partitions by; the CSV copy goes to `exports/csv/<dataset>/<value>.csv`,
outside that location, because Athena would try to read any file under it as Parquet.
"""

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ml_platform.core.catalog import DataCatalog
from ml_platform.core.storage import ObjectStore


def export_partition(
    frame: pd.DataFrame,
    dataset: str,
    partition_column: str,
    partition_value: str,
    *,
    object_store: ObjectStore,
    catalog: DataCatalog,
) -> dict[str, str]:
    """Write one partition of an exported dataset and register it; returns where it went."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    parquet = io.BytesIO()
    pq.write_table(table, parquet)
    folder = f"exports/{dataset}/{partition_column}={partition_value}"
    written = {
        "parquet": object_store.write_bytes(f"{folder}/part-0.parquet", parquet.getvalue()),
        "csv": object_store.write_bytes(
            f"exports/csv/{dataset}/{partition_value}.csv", frame.to_csv(index=False).encode()
        ),
    }
    registered = catalog.register_partition(
        dataset,
        {partition_column: partition_value},
        str(object_store.path(folder)) + "/",
        schema=table.schema,
        table_location=str(object_store.path(f"exports/{dataset}")) + "/",
    )
    if registered:
        written["glue_partition"] = f"{catalog.glue_database}.{dataset} ({registered})"
    return written
