# syntax=docker/dockerfile:1
# The platform's one image: the Dagster code server for `ml_platform.definitions` (the Helm chart's
# user deployment), through the K8sRunLauncher every run pod, and the apps of deploy/k8s (their
# `ml-platform …` args replace the CMD). Build: `make docker-build`.
#
# builder: the locked runtime dependencies into /opt/venv + this repository built as a wheel.
# runtime: that venv + that wheel, nothing else (no compiler, no sources, no test/dev tools).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# uv only exists in the builder; the version matches the one the project's .venv uses.
RUN pip install --no-cache-dir uv==0.13.9

# requirements-runtime.lock = `make lock-runtime`: pyproject's runtime dependencies (+ dagster-k8s
# for the run launcher), no test or dev extras. Copied first so this layer survives code edits.
WORKDIR /src
COPY requirements-runtime.lock ./
RUN python -m venv /opt/venv \
    && uv pip install --no-cache --python /opt/venv/bin/python -r requirements-runtime.lock

COPY pyproject.toml README.md ./
COPY ml_platform ./ml_platform
RUN uv build --no-cache --wheel --out-dir /dist .


FROM ${PYTHON_IMAGE} AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    DAGSTER_DISABLE_TELEMETRY=1 \
    GX_ANALYTICS_ENABLED=false

# A fixed numeric uid so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 dagster \
    && useradd --system --uid 10001 --gid dagster --home-dir /opt/dagster --shell /usr/sbin/nologin dagster

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /dist/ /tmp/dist/
# The wheel built above from this repository; its dependencies are already in the venv.
RUN pip install --no-cache-dir --no-deps /tmp/dist/ml_platform-*.whl \
    && rm -rf /tmp/dist

# The production instance (PostgreSQL storage from DAGSTER_PG_*). On EKS the Helm chart mounts its
# own dagster.yaml over this one in run pods; this copy serves `docker run` and plain containers.
COPY --chown=dagster:dagster deploy/dagster.yaml ${DAGSTER_HOME}/dagster.yaml

# Writable working directory (local mode writes .ml_platform/ here; production writes to S3).
WORKDIR /opt/dagster/app
RUN chown dagster:dagster /opt/dagster/app /opt/dagster/dagster_home

USER 10001:10001

EXPOSE 3030

# The same check the Helm chart's probes run against the code server.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["dagster", "api", "grpc-health-check", "-p", "3030"]

CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "3030", "-m", "ml_platform.definitions"]
