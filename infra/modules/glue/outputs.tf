output "database_name" {
  description = "Name of the Glue catalog database."
  value       = aws_glue_catalog_database.this.name
}

output "database_arn" {
  description = "ARN of the Glue catalog database."
  value       = aws_glue_catalog_database.this.arn
}

output "em_matches_table_name" {
  description = "Name of the em_matches table."
  value       = aws_glue_catalog_table.em_matches.name
}

output "em_matches_location" {
  description = "S3 location of the em_matches table (batch=<key>/ folders below it)."
  value       = aws_glue_catalog_table.em_matches.storage_descriptor[0].location
}
