#!/usr/bin/env bash
# README command 2: install, start a real PostgreSQL and a real S3 server on loopback, run pytest,
# stop the servers whatever happens. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install.sh
source scripts/services.sh

install_platform
install_browser
# offline infrastructure checks: terraform fmt, checkov, hadolint, actionlint, yamllint
bash scripts/infra_checks.sh
trap stop_services EXIT
start_services
export GX_ANALYTICS_ENABLED=false DAGSTER_DISABLE_TELEMETRY=1
.venv/bin/python -m pytest "$@"
