variable "region" {
  description = "AWS region, e.g. eu-west-1 (also AWS_REGION of the pods)."
  type        = string
}

variable "project" {
  description = "Project name: prefix of every resource name and the ECR repository name."
  type        = string
  default     = "ml-platform"
}

variable "environment" {
  description = "Environment name (dev, prod, ...), part of every resource name."
  type        = string
}

variable "tags" {
  description = "Extra tags for every resource (Project, Environment and ManagedBy are added)."
  type        = map(string)
  default     = {}
}

# ---- network

variable "vpc_cidr" {
  description = "VPC CIDR."
  type        = string
  default     = "10.40.0.0/16"
}

variable "az_count" {
  description = "Availability zones (2 or 3)."
  type        = number
  default     = 3
}

variable "single_nat_gateway" {
  description = "One NAT gateway in total (dev) instead of one per AZ (prod)."
  type        = bool
  default     = false
}

# ---- storage and catalog

variable "bucket_name" {
  description = "Globally unique name of the data + artifacts bucket."
  type        = string
}

variable "storage_prefix" {
  description = "Prefix under the bucket: ML_PLATFORM_STORAGE_URI = s3://<bucket>/<prefix>."
  type        = string
  default     = "dagster"
}

variable "noncurrent_version_expiration_days" {
  description = "Days before an overwritten artifact version expires."
  type        = number
  default     = 30
}

variable "bucket_force_destroy" {
  description = "Let terraform destroy delete a non-empty bucket (dev only)."
  type        = bool
  default     = false
}

variable "glue_database_name" {
  description = "Glue catalog database of the exports."
  type        = string
  default     = "ml_platform"
}

variable "ecr_images_to_keep" {
  description = "Images the ECR lifecycle policy keeps."
  type        = number
  default     = 30
}

# ---- EKS

variable "kubernetes_version" {
  description = "EKS Kubernetes version."
  type        = string
  default     = "1.33"
}

variable "eks_endpoint_public_access" {
  description = "Expose the Kubernetes API publicly (limited to eks_public_access_cidrs)."
  type        = bool
  default     = false
}

variable "eks_public_access_cidrs" {
  description = "CIDRs allowed to a public Kubernetes API endpoint."
  type        = list(string)
  default     = ["192.0.2.0/24"]
}

variable "node_instance_types" {
  description = "Node instance types."
  type        = list(string)
  default     = ["m6i.large"]
}

variable "node_min_size" {
  description = "Minimum nodes."
  type        = number
  default     = 2
}

variable "node_desired_size" {
  description = "Initial nodes."
  type        = number
  default     = 2
}

variable "node_max_size" {
  description = "Maximum nodes."
  type        = number
  default     = 4
}

variable "dagster_namespace" {
  description = "Namespace of the Dagster release (Helm)."
  type        = string
  default     = "dagster"
}

variable "dagster_service_account" {
  description = "Service account of the Dagster pods; the only one that may assume the IRSA role."
  type        = string
  default     = "dagster"
}

# ---- RDS

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_multi_az" {
  description = "Multi-AZ standby."
  type        = bool
  default     = true
}

variable "db_backup_retention_days" {
  description = "Automated backup retention (>= 7)."
  type        = number
  default     = 7
}

variable "db_deletion_protection" {
  description = "RDS deletion protection."
  type        = bool
  default     = true
}
