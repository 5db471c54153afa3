variable "role_name" {
  description = "Name of the IRSA role, e.g. ml-platform-dev-dagster."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (eks module output oidc_provider_arn)."
  type        = string
}

variable "oidc_issuer" {
  description = "OIDC issuer host/path without https:// (eks module output oidc_issuer)."
  type        = string
}

variable "namespace" {
  description = "Kubernetes namespace of the Dagster service account."
  type        = string
  default     = "dagster"
}

variable "service_account" {
  description = "Kubernetes service account the Dagster pods run as; the only principal that may assume the role."
  type        = string
  default     = "dagster"
}

variable "bucket_arn" {
  description = "ARN of the data + artifacts bucket."
  type        = string
}

variable "prefix" {
  description = "Key prefix the platform may read and write (ML_PLATFORM_STORAGE_URI's path)."
  type        = string
  default     = "dagster"

  validation {
    condition     = length(var.prefix) > 0 && !can(regex("[*?]", var.prefix))
    error_message = "prefix must be a non-empty literal key prefix (no wildcards)."
  }
}

variable "bucket_kms_key_arn" {
  description = "KMS key encrypting the bucket."
  type        = string
}

variable "glue_database_name" {
  description = "Glue catalog database the platform registers tables and partitions in."
  type        = string
  default     = "ml_platform"
}

variable "secret_arns" {
  description = "Secrets Manager secrets the pods may read (e.g. the RDS master secret); empty for none."
  type        = list(string)
  default     = []
}

variable "secret_kms_key_arns" {
  description = "KMS keys encrypting secret_arns."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
