# Glue Data Catalog entries that make the platform's exports queryable from Athena.
# The em_matches export must be laid out Hive-style, one folder per import batch:
#   s3://<bucket>/<prefix>/exports/em_matches/batch=<batch key>/part-0.parquet
# Only Parquet files may sit under that location (Athena reads every object below it).
# New batches become visible once their partition is registered: the platform's IRSA role may
# call glue:BatchCreatePartition, or run `MSCK REPAIR TABLE em_matches` in Athena.

locals {
  exports_root = "s3://${var.bucket_name}/${var.prefix}/exports"
}

resource "aws_glue_catalog_database" "this" {
  name        = var.database_name
  description = "ml_platform exports (entity matching and later products)"
}

resource "aws_glue_catalog_table" "em_matches" {
  name          = "em_matches"
  database_name = aws_glue_catalog_database.this.name
  description   = "Entity-matching results: best target per source with score and explanation, one partition per import batch."
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    EXTERNAL              = "TRUE"
    classification        = "parquet"
    "parquet.compression" = "SNAPPY"
  }

  partition_keys {
    name    = "batch"
    type    = "string"
    comment = "Import batch key (UTC timestamp, sorts in import order)"
  }

  storage_descriptor {
    location      = "${local.exports_root}/em_matches/"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      name                  = "parquet"
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
      parameters = {
        "serialization.format" = "1"
      }
    }

    columns {
      name    = "source_id"
      type    = "string"
      comment = "Id of the incoming source record"
    }
    columns {
      name    = "target_id"
      type    = "string"
      comment = "Id of the matched target record"
    }
    columns {
      name    = "score"
      type    = "double"
      comment = "Match probability in [0, 1]"
    }
    columns {
      name    = "explanation"
      type    = "string"
      comment = "Largest per-comparison weights, e.g. 'soc_sec_id exact +11.8; ...'"
    }
  }
}
