# One bucket for the platform's data and artifacts: Dagster's IO manager writes asset values under
# <prefix>/ (ML_PLATFORM_STORAGE_URI = s3://<bucket>/<prefix>) and exports beside them under
# <prefix>/exports/.

module "key" {
  source      = "../kms"
  alias       = "${var.bucket_name}-s3"
  description = "Objects of s3://${var.bucket_name}"
  tags        = var.tags
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is a DR decision per environment; every asset is re-materialisable from the warehouse, and versioning covers accidental overwrites.
  #checkov:skip=CKV2_AWS_62:No consumer of S3 event notifications: Dagster sensors poll the warehouse, not the bucket.
  #checkov:skip=CKV_AWS_18:Access auditing is done with CloudTrail S3 data events at the account level; a server-access-log bucket would itself need a log bucket.
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    object_ownership = "BucketOwnerEnforced" # ACLs disabled: access is decided by IAM alone
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = module.key.key_arn
    }
    bucket_key_enabled = true # one data key per bucket-period instead of a KMS call per object
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  # Every re-materialisation overwrites an asset's object; keep a few previous versions for
  # rollback and expire the rest, so versioning does not grow the bucket without bound.
  rule {
    id     = "expire-old-artifact-versions"
    status = "Enabled"
    filter {
      prefix = "${var.prefix}/"
    }
    noncurrent_version_expiration {
      noncurrent_days           = var.noncurrent_version_expiration_days
      newer_noncurrent_versions = var.noncurrent_versions_to_keep
    }
  }

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "bucket" {
  # A Deny of every S3 action over plain HTTP: the wildcard only narrows what is allowed.
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.bucket.json
  # The public access block must exist first, or the policy could briefly be evaluated without it.
  depends_on = [aws_s3_bucket_public_access_block.this]
}
