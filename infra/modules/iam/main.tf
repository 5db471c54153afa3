# The IRSA role of the Dagster pods (webserver, daemon, run workers): assumable only by one
# Kubernetes service account through the cluster's OIDC provider, allowed only onto the
# platform's prefix of the bucket and the platform's Glue database. No "*" actions or resources.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition               = data.aws_partition.current.partition
  glue_base               = "arn:${local.partition}:glue:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  service_account_subject = "system:serviceaccount:${var.namespace}:${var.service_account}"
}

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "DagsterServiceAccountOnly"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:sub"
      values   = [local.service_account_subject]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = var.role_name
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "access" {
  # Listing is limited to the platform's prefix (the IO manager lists partitions and exports).
  statement {
    sid       = "ListPlatformPrefix"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [var.prefix, "${var.prefix}/*"]
    }
  }

  statement {
    sid       = "ReadWritePlatformObjects"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${var.bucket_arn}/${var.prefix}/*"]
  }

  # SSE-KMS: reading and writing objects needs the bucket key, only through S3 in this region.
  statement {
    sid       = "UseBucketKeyThroughS3"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.bucket_kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${data.aws_region.current.name}.amazonaws.com"]
    }
  }

  # Register export tables and their partitions (e.g. em_matches batch=<key>) in the catalog.
  statement {
    sid    = "ManagePlatformCatalog"
    effect = "Allow"
    actions = [
      "glue:GetDatabase",
      "glue:GetTable",
      "glue:GetTables",
      "glue:CreateTable",
      "glue:UpdateTable",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:CreatePartition",
      "glue:BatchCreatePartition",
      "glue:UpdatePartition",
    ]
    resources = [
      "${local.glue_base}:catalog",
      "${local.glue_base}:database/${var.glue_database_name}",
      "${local.glue_base}:table/${var.glue_database_name}/*",
    ]
  }

  # Optional: read named secrets (the RDS master secret) for DAGSTER_PG_PASSWORD and the
  # warehouse URL, and decrypt them with their key.
  dynamic "statement" {
    for_each = length(var.secret_arns) > 0 ? [1] : []
    content {
      sid       = "ReadDatabaseSecrets"
      effect    = "Allow"
      actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      resources = var.secret_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.secret_kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "DecryptDatabaseSecrets"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = var.secret_kms_key_arns
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${data.aws_region.current.name}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_policy" "access" {
  name        = "${var.role_name}-access"
  description = "ml_platform: S3 prefix ${var.prefix} and Glue database ${var.glue_database_name}"
  policy      = data.aws_iam_policy_document.access.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "access" {
  role       = aws_iam_role.this.name
  policy_arn = aws_iam_policy.access.arn
}
