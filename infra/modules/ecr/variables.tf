variable "name" {
  description = "Repository name, e.g. ml-platform."
  type        = string
}

variable "images_to_keep" {
  description = "Number of most recent images kept by the lifecycle policy."
  type        = number
  default     = 30
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the images; null uses the AWS-managed aws/ecr key."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
