terraform {
  # Pinned to the 1.x line this repository's checks format with (scripts/infra_checks.sh).
  required_version = "~> 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
  }
}
