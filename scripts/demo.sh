#!/usr/bin/env bash
# README command 1: install, generate demo data, materialize every entity-matching asset on the
# embedded defaults (SQLite warehouse + local files; no servers), then say where to look.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install.sh

install_platform
export GX_ANALYTICS_ENABLED=false DAGSTER_DISABLE_TELEMETRY=1
.venv/bin/ml-platform demo "$@"
