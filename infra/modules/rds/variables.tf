variable "identifier" {
  description = "RDS instance identifier, e.g. ml-platform-dev."
  type        = string
}

variable "engine_version" {
  description = "PostgreSQL engine version (major 15; minor upgrades are automatic)."
  type        = string
  default     = "15"

  validation {
    condition     = can(regex("^15(\\.|$)", var.engine_version))
    error_message = "The platform is built and tested against PostgreSQL 15."
  }
}

variable "instance_class" {
  description = "Instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "allocated_storage_gib" {
  description = "Initial storage (GiB)."
  type        = number
  default     = 50
}

variable "max_allocated_storage_gib" {
  description = "Storage autoscaling ceiling (GiB)."
  type        = number
  default     = 200
}

variable "vpc_id" {
  description = "VPC of the instance."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets (at least two AZs) for the DB subnet group."
  type        = list(string)
}

variable "allowed_security_group_ids" {
  description = "Security groups allowed to connect on 5432 (the EKS cluster security group)."
  type        = list(string)
}

variable "dagster_db_name" {
  description = "Initial database, used by the Dagster instance (DAGSTER_PG_DB)."
  type        = string
  default     = "dagster"
}

variable "warehouse_db_name" {
  description = "Warehouse database name (ML_PLATFORM_WAREHOUSE_URL); created once with CREATE DATABASE."
  type        = string
  default     = "warehouse"
}

variable "master_username" {
  description = "Master user name; its password lives in Secrets Manager (manage_master_user_password)."
  type        = string
  default     = "ml_platform"
}

variable "multi_az" {
  description = "Standby in a second AZ with automatic failover."
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "Automated backup retention (days, at least 7)."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_days >= 7
    error_message = "Keep automated backups for at least 7 days."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the instance (turn off explicitly before a planned destroy)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
