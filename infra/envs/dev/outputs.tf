# What the deployment (Helm values, CI) needs. `environment` uses exactly the variable names of
# .env.example / the README; the two secret values come from `environment_from_secret`.

output "bucket_name" {
  description = "Data + artifacts bucket."
  value       = module.s3.bucket_name
}

output "ml_platform_storage_uri" {
  description = "ML_PLATFORM_STORAGE_URI (s3://<bucket>/<prefix>)."
  value       = module.s3.storage_uri
}

output "ecr_repository_url" {
  description = "Where CI pushes the image (tag = git SHA; tags are immutable)."
  value       = module.ecr.repository_url
}

output "rds_endpoint" {
  description = "host:port of PostgreSQL."
  value       = module.rds.endpoint
}

output "rds_address" {
  description = "PostgreSQL host (DAGSTER_PG_HOST)."
  value       = module.rds.address
}

output "rds_master_user_secret_arn" {
  description = "Secrets Manager secret with the PostgreSQL master credentials (JSON: username, password)."
  value       = module.rds.master_user_secret_arn
}

output "irsa_role_arn" {
  description = "Annotate the Dagster service account with eks.amazonaws.com/role-arn = this."
  value       = module.iam.role_arn
}

output "glue_database_name" {
  description = "Glue database holding em_matches (query from Athena)."
  value       = module.glue.database_name
}

output "cluster_name" {
  description = "EKS cluster (aws eks update-kubeconfig --name <this>)."
  value       = module.eks.cluster_name
}

output "dagster_service_account" {
  description = "namespace/name of the service account the IRSA role trusts."
  value       = "${var.dagster_namespace}/${var.dagster_service_account}"
}

output "environment" {
  description = "Non-secret environment of the Dagster pods, keyed by the names in .env.example."
  value = {
    ML_PLATFORM_ENV         = "production"
    ML_PLATFORM_STORAGE_URI = module.s3.storage_uri
    AWS_REGION              = var.region
    DAGSTER_PG_HOST         = module.rds.address
    DAGSTER_PG_PORT         = tostring(module.rds.port)
    DAGSTER_PG_USER         = module.rds.master_username
    DAGSTER_PG_DB           = module.rds.dagster_db_name
    # Kubernetes expands $(DAGSTER_PG_PASSWORD) from the variable defined before it in the pod
    # spec. RDS-generated passwords can contain URL-reserved characters: if so, URL-encode it in
    # an init step instead.
    ML_PLATFORM_WAREHOUSE_URL = "postgresql+psycopg2://${module.rds.master_username}:$(DAGSTER_PG_PASSWORD)@${module.rds.address}:${module.rds.port}/${module.rds.warehouse_db_name}"
  }
}

output "environment_from_secret" {
  description = "Secret environment of the Dagster pods: variable → Secrets Manager secret and JSON key."
  value = {
    DAGSTER_PG_PASSWORD = {
      secret_arn = module.rds.master_user_secret_arn
      json_key   = "password"
    }
  }
}
