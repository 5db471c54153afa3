variable "alias" {
  description = "Key alias without the alias/ prefix, e.g. ml-platform-dev-s3."
  type        = string
}

variable "description" {
  description = "What the key encrypts."
  type        = string
}

variable "allow_cloudwatch_logs" {
  description = "Let CloudWatch Logs encrypt this account's log groups in this region with the key."
  type        = bool
  default     = false
}

variable "deletion_window_in_days" {
  description = "Waiting period before a scheduled key deletion takes effect (7-30)."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
