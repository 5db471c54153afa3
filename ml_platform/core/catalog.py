"""Exported datasets registered in the AWS Glue catalog, so Athena sees each new batch at once.

Terraform creates the database (and `em_matches`, whose columns are a contract it documents);
the platform adds a partition per export under the table's location, and creates the table
itself, from the exported frame's Arrow schema, when Terraform did not: every export is
registered, whatever the product (`product_vectors` has as many columns as the model has
dimensions, which no Terraform file can know). A later export with new columns adds them to the
table. Locally there is no catalog (`glue_database` unset) and registering is a no-op, so the
same asset code runs everywhere.
"""

from typing import Any

import dagster as dg
import pyarrow as pa

# The storage Terraform gives em_matches (infra/modules/glue), the same for created tables.
_PARQUET_STORAGE = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {
        "Name": "parquet",
        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        "Parameters": {"serialization.format": "1"},
    },
}
_TABLE_PARAMETERS = {
    "EXTERNAL": "TRUE",
    "classification": "parquet",
    "parquet.compression": "SNAPPY",
}


def glue_type(kind: pa.DataType) -> str:
    """The Hive/Athena type Athena reads an Arrow (Parquet) column as."""
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_integer(kind):
        return {8: "tinyint", 16: "smallint", 32: "int"}.get(kind.bit_width, "bigint")
    if pa.types.is_float32(kind) or pa.types.is_float16(kind):
        return "float"
    if pa.types.is_floating(kind):
        return "double"
    if pa.types.is_decimal(kind):
        return f"decimal({kind.precision},{kind.scale})"
    if pa.types.is_timestamp(kind):
        return "timestamp"
    if pa.types.is_date(kind):
        return "date"
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return "binary"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return f"array<{glue_type(kind.value_type)}>"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return "string"  # an all-null column: Parquet's null type reads as any
    raise ValueError(f"no Glue type for the Arrow type {kind}")


def glue_columns(schema: pa.Schema, partition_keys: list[str]) -> list[dict[str, str]]:
    """Glue columns of a Parquet schema; partition keys live in the folder names, not here."""
    return [
        {"Name": field.name, "Type": glue_type(field.type)}
        for field in schema
        if field.name not in partition_keys
    ]


class DataCatalog(dg.ConfigurableResource):
    """`glue_database` set = register exports in Glue; `endpoint_url` for Glue-compatible servers."""

    glue_database: str | None = None
    endpoint_url: str | None = None
    region_name: str | None = None

    def register_partition(
        self,
        table: str,
        values: dict[str, str],
        location: str,
        schema: pa.Schema,
        table_location: str,
    ) -> str | None:
        """Add (or move) the partition of `table` with these values to `location`; idempotent.

        A missing table is created over `table_location` with `schema`'s columns, partitioned
        by `values`' keys; columns of `schema` the table lacks are added. Returns what was
        done, for metadata, or None when no catalog is configured.
        """
        if not self.glue_database:
            return None
        glue = self._client()
        done = []
        try:
            definition = glue.get_table(DatabaseName=self.glue_database, Name=table)["Table"]
        except glue.exceptions.EntityNotFoundException:
            definition = self._create_table(glue, table, sorted(values), schema, table_location)
            done.append("table created")
        keys = [column["Name"] for column in definition.get("PartitionKeys", [])]
        if sorted(keys) != sorted(values):
            raise ValueError(
                f"Glue table {self.glue_database}.{table} is partitioned by {keys}, "
                f"not by {sorted(values)}"
            )
        if self._add_new_columns(glue, definition, glue_columns(schema, keys)):
            done.append("columns added")
        storage = {**definition["StorageDescriptor"], "Location": location}
        partition = {"Values": [values[key] for key in keys], "StorageDescriptor": storage}
        try:
            glue.create_partition(
                DatabaseName=self.glue_database, TableName=table, PartitionInput=partition
            )
            done.append("created")
        except glue.exceptions.AlreadyExistsException:
            glue.update_partition(
                DatabaseName=self.glue_database,
                TableName=table,
                PartitionValueList=partition["Values"],
                PartitionInput=partition,
            )
            done.append("updated")
        return ", ".join(done)

    def _create_table(
        self, glue: Any, table: str, keys: list[str], schema: pa.Schema, location: str
    ) -> dict[str, Any]:
        table_input = {
            "Name": table,
            "Description": "ml_platform export; table created by the platform at its first export",
            "TableType": "EXTERNAL_TABLE",
            "Parameters": _TABLE_PARAMETERS,
            "PartitionKeys": [{"Name": key, "Type": "string"} for key in keys],
            "StorageDescriptor": {
                **_PARQUET_STORAGE,
                "Columns": glue_columns(schema, keys),
                "Location": location,
            },
        }
        try:
            glue.create_table(DatabaseName=self.glue_database, TableInput=table_input)
        except glue.exceptions.AlreadyExistsException:
            pass  # another run created it between our get and create: use theirs
        return glue.get_table(DatabaseName=self.glue_database, Name=table)["Table"]

    def _add_new_columns(
        self, glue: Any, definition: dict[str, Any], columns: list[dict[str, str]]
    ) -> bool:
        storage = definition["StorageDescriptor"]
        known = {column["Name"] for column in storage.get("Columns", [])}
        new = [column for column in columns if column["Name"] not in known]
        if not new:
            return False
        storage = {**storage, "Columns": [*storage.get("Columns", []), *new]}
        definition["StorageDescriptor"] = storage
        # UpdateTable takes a TableInput: the definition without the fields Glue computes
        table_input = {
            key: definition[key]
            for key in (
                "Name", "Description", "Owner", "Retention", "StorageDescriptor",
                "PartitionKeys", "TableType", "Parameters",
            )
            if key in definition
        }  # fmt: skip
        glue.update_table(DatabaseName=self.glue_database, TableInput=table_input)
        return True

    def _client(self) -> Any:
        import boto3

        return boto3.client("glue", endpoint_url=self.endpoint_url, region_name=self.region_name)
