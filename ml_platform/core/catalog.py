"""Exported datasets registered in the AWS Glue catalog, so Athena sees each new batch at once.

Terraform creates the database and the tables (their columns and Parquet format); the platform
only adds a partition per export under the table's location. Locally there is no catalog
(`glue_database` unset) and registering is a no-op, so the same asset code runs everywhere.
"""

from typing import Any

import dagster as dg


class DataCatalog(dg.ConfigurableResource):
    """`glue_database` set = register partitions in Glue; `endpoint_url` for Glue-compatible servers."""

    glue_database: str | None = None
    endpoint_url: str | None = None
    region_name: str | None = None

    def register_partition(self, table: str, values: dict[str, str], location: str) -> str | None:
        """Add (or move) the partition of `table` with these values to `location`; idempotent.

        Returns what was done, for metadata, or None when no catalog is configured.
        """
        if not self.glue_database:
            return None
        glue = self._client()
        definition = glue.get_table(DatabaseName=self.glue_database, Name=table)["Table"]
        keys = [column["Name"] for column in definition.get("PartitionKeys", [])]
        if sorted(keys) != sorted(values):
            raise ValueError(
                f"Glue table {self.glue_database}.{table} is partitioned by {keys}, "
                f"not by {sorted(values)}"
            )
        storage = {**definition["StorageDescriptor"], "Location": location}
        partition = {"Values": [values[key] for key in keys], "StorageDescriptor": storage}
        try:
            glue.create_partition(
                DatabaseName=self.glue_database, TableName=table, PartitionInput=partition
            )
            return "created"
        except glue.exceptions.AlreadyExistsException:
            glue.update_partition(
                DatabaseName=self.glue_database,
                TableName=table,
                PartitionValueList=partition["Values"],
                PartitionInput=partition,
            )
            return "updated"

    def _client(self) -> Any:
        import boto3

        return boto3.client("glue", endpoint_url=self.endpoint_url, region_name=self.region_name)
