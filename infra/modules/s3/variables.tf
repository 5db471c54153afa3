variable "bucket_name" {
  description = "Globally unique bucket name for data and artifacts."
  type        = string
}

variable "prefix" {
  description = "Key prefix the platform writes under: ML_PLATFORM_STORAGE_URI = s3://<bucket>/<prefix>."
  type        = string
  default     = "dagster"
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which a noncurrent (overwritten) object version under the prefix expires."
  type        = number
  default     = 30
}

variable "noncurrent_versions_to_keep" {
  description = "Noncurrent versions per object kept regardless of age (rollback window)."
  type        = number
  default     = 3
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete a non-empty bucket (dev only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
