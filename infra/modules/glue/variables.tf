variable "database_name" {
  description = "Glue catalog database holding the platform's tables."
  type        = string
  default     = "ml_platform"
}

variable "bucket_name" {
  description = "Bucket the platform writes to (the s3 module's bucket_name)."
  type        = string
}

variable "prefix" {
  description = "Key prefix of ML_PLATFORM_STORAGE_URI; exports live under <prefix>/exports/."
  type        = string
  default     = "dagster"
}
