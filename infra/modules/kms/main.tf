# One customer-managed key per purpose (bucket, logs, EKS secrets, RDS), with rotation and an
# explicit key policy. In a key policy "Resource": "*" means "this key" (the policy is attached
# to the key itself), which is why it is the only place in infra/ where a "*" resource appears.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_root = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
}

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_109:Key policy, not an identity policy: Resource "*" is this key only, and the account root must administer it or the key becomes unmanageable.
  #checkov:skip=CKV_AWS_111:Key policy, not an identity policy: Resource "*" is this key only; use of the key is further limited by the IAM policies the root delegates to.
  #checkov:skip=CKV_AWS_356:Key policy, not an identity policy: a key policy can only name its own key, as Resource "*".
  # The account keeps administering the key and may delegate its use through IAM policies
  # (e.g. the IRSA role's kms:Decrypt on this key's ARN). Actions are enumerated, never kms:*.
  statement {
    sid    = "AccountAdministersAndDelegates"
    effect = "Allow"
    principals {
      type        = "AWS"
      identifiers = [local.account_root]
    }
    actions = [
      "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
      "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
      "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
      "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant",
    ]
    resources = ["*"]
  }

  # CloudWatch Logs encrypts log groups with the key itself (VPC flow logs, EKS control-plane
  # logs): only for log groups of this account and region, as the AWS documentation prescribes.
  dynamic "statement" {
    for_each = var.allow_cloudwatch_logs ? [1] : []
    content {
      sid    = "CloudWatchLogsOfThisAccount"
      effect = "Allow"
      principals {
        type        = "Service"
        identifiers = ["logs.${data.aws_region.current.name}.amazonaws.com"]
      }
      actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
      resources = ["*"]
      condition {
        test     = "ArnLike"
        variable = "kms:EncryptionContext:aws:logs:arn"
        values   = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:*"]
      }
    }
  }
}

resource "aws_kms_key" "this" {
  description             = var.description
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.alias}"
  target_key_id = aws_kms_key.this.key_id
}
