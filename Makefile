# Developer and delivery shortcuts. `make` (or `make help`) lists the targets.
# Every variable can be overridden on the command line or from the environment, e.g.
#   make docker-push ECR_REPOSITORY_URL=$(terraform -chdir=infra/envs/dev output -raw ecr_repository_url)

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PYTHON ?= $(VENV)/bin/python
UV ?= $(VENV)/bin/uv
DIST_DIR ?= dist

# Image: built locally as $(IMAGE_NAME):$(IMAGE_TAG), pushed as $(ECR_REPOSITORY_URL):$(IMAGE_TAG).
# The ECR repository (Terraform output) is <account>.dkr.ecr.<region>.amazonaws.com/$(IMAGE_NAME).
IMAGE_NAME ?= ml-platform
GIT_SHA ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
IMAGE_TAG ?= $(GIT_SHA)
DOCKER ?= docker
ECR_REPOSITORY_URL ?=
ECR_REGISTRY = $(firstword $(subst /, ,$(ECR_REPOSITORY_URL)))
AWS ?= aws
AWS_REGION ?= $(or $(AWS_DEFAULT_REGION),eu-west-1)

# AWS CodeArtifact (publish-wheel): domain, its owner account id, and the PyPI repository.
CODEARTIFACT_DOMAIN ?=
CODEARTIFACT_DOMAIN_OWNER ?=
CODEARTIFACT_REPOSITORY ?=
TWINE ?= $(UV) tool run twine

.PHONY: help test demo lint wheel lock-runtime publish-wheel docker-build docker-tag docker-push

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'
	@echo "variables: IMAGE_NAME=$(IMAGE_NAME) IMAGE_TAG=$(IMAGE_TAG) ECR_REPOSITORY_URL=$(ECR_REPOSITORY_URL)"

test: ## README command 2: PostgreSQL + S3 servers on loopback, then pytest
	bash scripts/test.sh

demo: ## README command 1: install and materialize every entity-matching asset locally
	bash scripts/demo.sh

lint: ## ruff check + ruff format --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

wheel: ## build the ml_platform wheel into $(DIST_DIR)/
	rm -f $(DIST_DIR)/ml_platform-*.whl
	$(UV) build --wheel --out-dir $(DIST_DIR) .

# The image's dependency lock: pyproject's runtime dependencies without the test/dev extras, plus
# dagster-k8s, which the K8sRunLauncher's run pods need to load the chart's instance config,
# and confluent-kafka for the tweet stream's Kafka source.
# Existing pins are kept (uv prefers the versions already in the output file).
lock-runtime: ## regenerate requirements-runtime.lock (runtime deps only)
	$(UV) pip compile pyproject.toml --extra k8s --extra kafka --python-version 3.11 \
		--custom-compile-command 'make lock-runtime' -o requirements-runtime.lock -q

publish-wheel: wheel ## upload the wheel to AWS CodeArtifact (CODEARTIFACT_DOMAIN/_DOMAIN_OWNER/REPOSITORY)
	@test -n "$(CODEARTIFACT_DOMAIN)" -a -n "$(CODEARTIFACT_DOMAIN_OWNER)" -a -n "$(CODEARTIFACT_REPOSITORY)" || \
		{ echo "set CODEARTIFACT_DOMAIN, CODEARTIFACT_DOMAIN_OWNER and CODEARTIFACT_REPOSITORY" >&2; exit 1; }
	TWINE_USERNAME=aws \
	TWINE_PASSWORD="$$($(AWS) codeartifact get-authorization-token --region $(AWS_REGION) \
		--domain $(CODEARTIFACT_DOMAIN) --domain-owner $(CODEARTIFACT_DOMAIN_OWNER) \
		--query authorizationToken --output text)" \
	TWINE_REPOSITORY_URL="$$($(AWS) codeartifact get-repository-endpoint --region $(AWS_REGION) \
		--domain $(CODEARTIFACT_DOMAIN) --domain-owner $(CODEARTIFACT_DOMAIN_OWNER) \
		--repository $(CODEARTIFACT_REPOSITORY) --format pypi --query repositoryEndpoint --output text)" \
	$(TWINE) upload --non-interactive $(DIST_DIR)/ml_platform-*.whl

docker-build: ## build the image as $(IMAGE_NAME):$(IMAGE_TAG)
	$(DOCKER) build --pull -t $(IMAGE_NAME):$(IMAGE_TAG) .

docker-tag: ## tag $(IMAGE_NAME):$(IMAGE_TAG) as $(ECR_REPOSITORY_URL):$(IMAGE_TAG) (git SHA)
	@test -n "$(ECR_REPOSITORY_URL)" || { echo "set ECR_REPOSITORY_URL (terraform output ecr_repository_url)" >&2; exit 1; }
	$(DOCKER) tag $(IMAGE_NAME):$(IMAGE_TAG) $(ECR_REPOSITORY_URL):$(IMAGE_TAG)

docker-push: docker-tag ## log in to ECR and push $(ECR_REPOSITORY_URL):$(IMAGE_TAG)
	$(AWS) ecr get-login-password --region $(AWS_REGION) | \
		$(DOCKER) login --username AWS --password-stdin $(ECR_REGISTRY)
	$(DOCKER) push $(ECR_REPOSITORY_URL):$(IMAGE_TAG)
