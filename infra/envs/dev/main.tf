# The ml_platform deployment on AWS: network → EKS (runs Dagster) + RDS (Dagster instance and
# warehouse) + S3 (asset values, exports) + Glue (exports queryable from Athena) + ECR (image)
# + the IRSA role tying the Dagster service account to the bucket prefix and the catalog.
# The same composition serves every environment; environments differ only by variables
# (terraform.tfvars.example = dev, prod.tfvars = prod) and by backend state key.

locals {
  name = "${var.project}-${var.environment}"
  tags = merge(var.tags, {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  })
}

module "network" {
  source             = "../../modules/network"
  name               = local.name
  cidr_block         = var.vpc_cidr
  az_count           = var.az_count
  single_nat_gateway = var.single_nat_gateway
}

module "s3" {
  source                             = "../../modules/s3"
  bucket_name                        = var.bucket_name
  prefix                             = var.storage_prefix
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  force_destroy                      = var.bucket_force_destroy
}

module "glue" {
  source        = "../../modules/glue"
  database_name = var.glue_database_name
  bucket_name   = module.s3.bucket_name
  prefix        = module.s3.prefix
}

module "ecr" {
  source         = "../../modules/ecr"
  name           = var.project
  images_to_keep = var.ecr_images_to_keep
}

module "eks" {
  source                 = "../../modules/eks"
  cluster_name           = local.name
  kubernetes_version     = var.kubernetes_version
  private_subnet_ids     = module.network.private_subnet_ids
  endpoint_public_access = var.eks_endpoint_public_access
  public_access_cidrs    = var.eks_public_access_cidrs
  node_instance_types    = var.node_instance_types
  node_min_size          = var.node_min_size
  node_desired_size      = var.node_desired_size
  node_max_size          = var.node_max_size
}

module "rds" {
  source                     = "../../modules/rds"
  identifier                 = local.name
  instance_class             = var.db_instance_class
  vpc_id                     = module.network.vpc_id
  private_subnet_ids         = module.network.private_subnet_ids
  allowed_security_group_ids = [module.eks.cluster_security_group_id]
  multi_az                   = var.db_multi_az
  backup_retention_days      = var.db_backup_retention_days
  deletion_protection        = var.db_deletion_protection
}

module "iam" {
  source              = "../../modules/iam"
  role_name           = "${local.name}-dagster"
  oidc_provider_arn   = module.eks.oidc_provider_arn
  oidc_issuer         = module.eks.oidc_issuer
  namespace           = var.dagster_namespace
  service_account     = var.dagster_service_account
  bucket_arn          = module.s3.bucket_arn
  prefix              = module.s3.prefix
  bucket_kms_key_arn  = module.s3.kms_key_arn
  glue_database_name  = module.glue.database_name
  secret_arns         = [module.rds.master_user_secret_arn]
  secret_kms_key_arns = [module.rds.kms_key_arn]
}
