terraform {
  required_version = "~> 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
    tls = {
      source  = "hashicorp/tls"
      version = "~> 4.0"
    }
  }

  # State lives in S3, configured at init time so no account, bucket or key is hard-coded here
  # (partial configuration). One state per environment:
  #   terraform init \
  #     -backend-config="bucket=<state bucket>" \
  #     -backend-config="key=ml-platform/dev.tfstate" \
  #     -backend-config="region=<region>" \
  #     -backend-config="use_lockfile=true" \
  #     -backend-config="encrypt=true"
  # (prod: key=ml-platform/prod.tfstate, then -var-file=prod.tfvars). Or put these lines in an
  # uncommitted dev.s3.tfbackend and pass -backend-config=dev.s3.tfbackend.
  backend "s3" {}
}
