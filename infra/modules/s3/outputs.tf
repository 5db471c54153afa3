output "bucket_name" {
  description = "Name of the bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the bucket."
  value       = aws_s3_bucket.this.arn
}

output "prefix" {
  description = "Key prefix the platform writes under."
  value       = var.prefix
}

output "storage_uri" {
  description = "Value for ML_PLATFORM_STORAGE_URI."
  value       = "s3://${aws_s3_bucket.this.id}/${var.prefix}"
}

output "kms_key_arn" {
  description = "KMS key encrypting the bucket (the IRSA role needs Decrypt/GenerateDataKey on it)."
  value       = module.key.key_arn
}
