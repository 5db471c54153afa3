output "address" {
  description = "Host name of the instance (DAGSTER_PG_HOST, host of ML_PLATFORM_WAREHOUSE_URL)."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port of the instance (DAGSTER_PG_PORT)."
  value       = aws_db_instance.this.port
}

output "endpoint" {
  description = "host:port of the instance."
  value       = aws_db_instance.this.endpoint
}

output "master_username" {
  description = "Master user name (DAGSTER_PG_USER until dedicated users are created)."
  value       = aws_db_instance.this.username
}

output "master_user_secret_arn" {
  description = "Secrets Manager secret holding the master password (JSON keys username, password)."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "dagster_db_name" {
  description = "Database of the Dagster instance (DAGSTER_PG_DB)."
  value       = aws_db_instance.this.db_name
}

output "warehouse_db_name" {
  description = "Database of the warehouse (path of ML_PLATFORM_WAREHOUSE_URL)."
  value       = var.warehouse_db_name
}

output "security_group_id" {
  description = "Security group of the instance."
  value       = aws_security_group.this.id
}

output "kms_key_arn" {
  description = "KMS key encrypting storage, Performance Insights and the master secret."
  value       = module.key.key_arn
}
