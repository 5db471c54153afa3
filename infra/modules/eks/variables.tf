variable "cluster_name" {
  description = "EKS cluster name, e.g. ml-platform-dev."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane."
  type        = string
  default     = "1.33"
}

variable "private_subnet_ids" {
  description = "Private subnets (2-3 AZs) for the control-plane ENIs and the nodes."
  type        = list(string)
}

variable "endpoint_public_access" {
  description = "Expose the Kubernetes API publicly (restricted to public_access_cidrs); false = private endpoint only."
  type        = bool
  default     = false
}

variable "public_access_cidrs" {
  description = "CIDRs allowed to reach a public API endpoint (only used when endpoint_public_access is true)."
  type        = list(string)
  default     = ["192.0.2.0/24"] # documentation range: set your office/VPN egress CIDRs

  validation {
    condition     = !contains(var.public_access_cidrs, "0.0.0.0/0")
    error_message = "Do not open the Kubernetes API to 0.0.0.0/0."
  }
}

variable "log_retention_days" {
  description = "Retention of the control-plane logs in CloudWatch Logs."
  type        = number
  default     = 365
}

variable "node_instance_types" {
  description = "Instance types of the managed node group."
  type        = list(string)
  default     = ["m6i.large"]
}

variable "node_min_size" {
  description = "Minimum number of nodes."
  type        = number
  default     = 2
}

variable "node_desired_size" {
  description = "Initial number of nodes (then owned by the autoscaler)."
  type        = number
  default     = 2
}

variable "node_max_size" {
  description = "Maximum number of nodes."
  type        = number
  default     = 4
}

variable "node_disk_size_gib" {
  description = "Root volume size of each node (GiB, encrypted gp3)."
  type        = number
  default     = 50
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
