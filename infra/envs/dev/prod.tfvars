# Production: same composition as dev, different variables and state key:
#   terraform init -reconfigure -backend-config=... -backend-config="key=ml-platform/prod.tfstate"
#   terraform plan -var-file=prod.tfvars
region      = "eu-west-1"
environment = "prod"
bucket_name = "my-ml-platform-prod-data" # globally unique

az_count                           = 3
single_nat_gateway                 = false # one NAT gateway per AZ
db_multi_az                        = true
db_instance_class                  = "db.m7g.large"
db_backup_retention_days           = 14
db_deletion_protection             = true
bucket_force_destroy               = false
noncurrent_version_expiration_days = 90
node_instance_types                = ["m6i.xlarge"]
node_min_size                      = 2
node_desired_size                  = 3
node_max_size                      = 6
