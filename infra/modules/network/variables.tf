variable "name" {
  description = "Name prefix for every resource, e.g. ml-platform-dev."
  type        = string
}

variable "cidr_block" {
  description = "VPC CIDR; split into /20s (for a /16) for the public and private subnets."
  type        = string
  default     = "10.40.0.0/16"
}

variable "az_count" {
  description = "Number of availability zones (2 or 3); one public and one private subnet each."
  type        = number
  default     = 3

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 3
    error_message = "az_count must be 2 or 3."
  }
}

variable "availability_zones" {
  description = "Zone names to use (the first az_count that are available); null = <region>a, b and c."
  type        = list(string)
  default     = null
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all AZs (cheaper, dev) instead of one per AZ (zone-resilient, prod)."
  type        = bool
  default     = false
}

variable "flow_log_retention_days" {
  description = "Retention of the VPC flow logs in CloudWatch Logs."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
