output "role_arn" {
  description = "ARN of the IRSA role: annotate the service account with eks.amazonaws.com/role-arn = this."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the IRSA role."
  value       = aws_iam_role.this.name
}

output "service_account_subject" {
  description = "The only subject that may assume the role."
  value       = local.service_account_subject
}
