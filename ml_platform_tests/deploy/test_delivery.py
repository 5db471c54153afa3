"""Delivery artefacts: the Helm values, the Dockerfile, the Makefile's wheel, the CI workflow.

Nothing here needs Docker, Helm or AWS: the values are checked against the fields the official
Dagster chart's templates read, the Dockerfile against what the image must contain, and the wheel
by really installing it (with the runtime lock only) into a fresh virtualenv and serving from it.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
VALUES = REPO_ROOT / "deploy" / "helm" / "values.yaml"
HELM_README = REPO_ROOT / "deploy" / "helm" / "README.md"
DEPLOY_DOC = REPO_ROOT / "docs" / "deploy.md"
DOCKERFILE = REPO_ROOT / "Dockerfile"
MAKEFILE = REPO_ROOT / "Makefile"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
SETTINGS = REPO_ROOT / "ml_platform" / "core" / "settings.py"
RUNTIME_LOCK = REPO_ROOT / "requirements-runtime.lock"
FULL_LOCK = REPO_ROOT / "requirements.lock"
WORKFLOW = REPO_ROOT / ".github" / "workflows" / "ci.yml"
VENV_BIN = Path(sys.executable).parent

ENV_NAME = re.compile(r"\b(ML_PLATFORM_[A-Z_]+|DAGSTER_PG_[A-Z]+|DAGSTER_HOME)\b")
TEST_AND_DEV_TOOLS = ("pytest", "moto", "ruff")

# The fields of the official chart (1.13.x) this deployment relies on, as its templates read them
# (charts/dagster-user-deployments/templates/deployment-user.yaml, templates/configmap-instance.yaml).
_ENV_SOURCES = {
    "type": "array",
    "minItems": 1,
    "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
}
_USER_DEPLOYMENT = {
    "type": "object",
    "required": ["name", "image", "port"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
        "image": {
            "type": "object",
            "required": ["repository", "tag", "pullPolicy"],
            "properties": {
                "repository": {"type": "string", "minLength": 1},
                "tag": {"type": "string", "minLength": 1},
                "pullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]},
            },
        },
        "port": {"type": "integer"},
        "dagsterApiGrpcArgs": {"type": "array", "items": {"type": "string"}},
        "codeServerArgs": {"type": "array", "items": {"type": "string"}},
        "env": {"type": "object", "additionalProperties": {"type": "string"}},
        "envSecrets": _ENV_SOURCES,
        "resources": {
            "type": "object",
            "required": ["requests", "limits"],
            "properties": {
                "requests": {"type": "object", "required": ["cpu", "memory"]},
                "limits": {"type": "object", "required": ["memory"]},
            },
        },
    },
    "oneOf": [{"required": ["dagsterApiGrpcArgs"]}, {"required": ["codeServerArgs"]}],
}
CHART_VALUES_SCHEMA = {
    "type": "object",
    "required": [
        "global",
        "serviceAccount",
        "dagster-user-deployments",
        "runLauncher",
        "postgresql",
        "dagsterDaemon",
    ],
    "properties": {
        "global": {
            "type": "object",
            "required": ["postgresqlSecretName"],
            "properties": {"postgresqlSecretName": {"type": "string", "minLength": 1}},
        },
        "generatePostgresqlPasswordSecret": {"const": False},
        "serviceAccount": {
            "type": "object",
            "required": ["create", "name", "annotations"],
            "properties": {
                "name": {"const": "dagster"},  # the service account the IRSA role trusts
                "annotations": {
                    "type": "object",
                    "required": ["eks.amazonaws.com/role-arn"],
                },
            },
        },
        "dagster-user-deployments": {
            "type": "object",
            "required": ["enabled", "deployments"],
            "properties": {
                "enabled": {"const": True},
                "deployments": {"type": "array", "minItems": 1, "items": _USER_DEPLOYMENT},
            },
        },
        "runLauncher": {
            "type": "object",
            "required": ["type", "config"],
            "properties": {
                "type": {"const": "K8sRunLauncher"},
                "config": {
                    "type": "object",
                    "required": ["k8sRunLauncher"],
                    "properties": {
                        "k8sRunLauncher": {
                            "type": "object",
                            "required": ["envSecrets"],
                            "properties": {"envSecrets": _ENV_SOURCES},
                        }
                    },
                },
            },
        },
        "postgresql": {
            "type": "object",
            "required": ["enabled", "postgresqlHost", "postgresqlUsername", "postgresqlDatabase"],
            "properties": {
                "enabled": {"const": False},
                "postgresqlScheme": {"const": "postgresql+psycopg2"},
                "service": {"type": "object", "properties": {"port": {"type": "integer"}}},
            },
            "not": {"required": ["postgresqlPassword"]},  # the password lives in the Secret
        },
        "dagsterDaemon": {
            "type": "object",
            "required": ["enabled", "runCoordinator"],
            "properties": {
                "enabled": {"const": True},
                "runCoordinator": {
                    "type": "object",
                    "required": ["enabled", "type", "config"],
                    "properties": {
                        "enabled": {"const": True},
                        "type": {"const": "QueuedRunCoordinator"},
                        "config": {
                            "type": "object",
                            "required": ["queuedRunCoordinator"],
                            "properties": {
                                "queuedRunCoordinator": {
                                    "type": "object",
                                    "required": ["maxConcurrentRuns"],
                                    "properties": {
                                        "maxConcurrentRuns": {"type": "integer", "minimum": 1}
                                    },
                                }
                            },
                        },
                    },
                },
            },
        },
    },
}


def _values() -> dict:
    return yaml.safe_load(VALUES.read_text())


def _deployment() -> dict:
    deployments = _values()["dagster-user-deployments"]["deployments"]
    return next(d for d in deployments if d["name"] == "ml-platform")


def _env_example() -> dict[str, str]:
    """Names in .env.example, set or commented out (optional), with their example values."""
    names = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]+)=(.*)$", line)
        if match:
            names[match.group(1)] = match.group(2)
    return names


def _required_env_example_names() -> set[str]:
    return {
        m.group(1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if (m := re.match(r"^([A-Z][A-Z0-9_]+)=", line))
    }


def _names_the_code_reads() -> set[str]:
    return set(re.findall(r'"(ML_PLATFORM_[A-Z_]+)"', SETTINGS.read_text()))


def _make_variable(name: str) -> str:
    match = re.search(rf"^{name}\s*\??=\s*(\S+)\s*$", MAKEFILE.read_text(), re.MULTILINE)
    assert match, f"Makefile defines no {name}"
    return match.group(1)


# ---------------------------------------------------------------------------------------------
# (a) Helm values: the chart's fields, and consistency with .env.example and the Makefile
# ---------------------------------------------------------------------------------------------


def test_helm_values_have_the_fields_the_dagster_chart_reads():
    jsonschema.validate(_values(), CHART_VALUES_SCHEMA)


def test_code_server_loads_the_definitions_module_on_the_images_port():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    module = pyproject["tool"]["dagster"]["module_name"]
    deployment = _deployment()
    args = deployment.get("codeServerArgs") or deployment["dagsterApiGrpcArgs"]
    assert args == ["-m", module]
    exposed = re.findall(r"^EXPOSE\s+(\d+)", DOCKERFILE.read_text(), re.MULTILINE)
    assert exposed == [str(deployment["port"])]


def test_runs_and_code_server_read_the_same_environment_secret():
    values = _values()
    code_server = [s["name"] for s in _deployment()["envSecrets"]]
    runs = [s["name"] for s in values["runLauncher"]["config"]["k8sRunLauncher"]["envSecrets"]]
    assert code_server == runs == ["ml-platform-env"]
    assert "kubectl -n dagster create secret generic ml-platform-env --from-env-file=" in (
        HELM_README.read_text()
    )


def test_env_var_names_in_values_and_docs_are_the_ones_in_env_example():
    known = set(_env_example()) | _names_the_code_reads()
    in_values = set(_deployment()["env"]) | set(ENV_NAME.findall(VALUES.read_text()))
    in_docs = set(ENV_NAME.findall(HELM_README.read_text())) | set(
        ENV_NAME.findall(DEPLOY_DOC.read_text())
    )
    assert in_values - known == set(), "values.yaml names variables .env.example does not know"
    assert in_docs - known == set(), "the deploy docs name variables .env.example does not know"


def test_every_required_variable_is_provided_on_eks():
    """Each variable .env.example sets comes from the values' ConfigMap, the documented Secret
    (the env file in docs/deploy.md), or the chart itself (DAGSTER_HOME)."""
    doc = DEPLOY_DOC.read_text()
    secret_lines = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", doc, re.MULTILINE))
    provided = set(_deployment()["env"]) | secret_lines | {"DAGSTER_HOME"}
    assert _required_env_example_names() - provided == set()
    # the chart's DAGSTER_HOME default, the image's and .env.example's agree
    dockerfile_home = re.search(r"DAGSTER_HOME=(\S+)", DOCKERFILE.read_text()).group(1)
    assert dockerfile_home == _env_example()["DAGSTER_HOME"] == "/opt/dagster/dagster_home"


def test_image_name_in_values_is_the_makefiles():
    repository = _deployment()["image"]["repository"]
    assert repository.rsplit("/", 1)[-1] == _make_variable("IMAGE_NAME")


def test_makefile_targets_are_the_readme_commands_and_delivery_steps():
    text = MAKEFILE.read_text()
    phony = set(re.search(r"^\.PHONY:(.*)$", text, re.MULTILINE).group(1).split())
    expected = {"help", "test", "demo", "lint", "wheel", "publish-wheel"}
    assert expected | {"docker-build", "docker-tag", "docker-push"} <= phony
    assert re.search(r"^test:.*\n\tbash scripts/test\.sh$", text, re.MULTILINE)
    assert re.search(r"^demo:.*\n\tbash scripts/demo\.sh$", text, re.MULTILINE)


def test_ci_runs_the_same_checks_and_pushes_with_oidc_only():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    test_steps = workflow["jobs"]["test"]["steps"]
    assert any(step.get("run") == "bash .ci/run" for step in test_steps)
    publish = workflow["jobs"]["publish"]
    assert publish["needs"] == "test"
    assert publish["permissions"]["id-token"] == "write"
    credentials = next(
        s for s in publish["steps"] if "configure-aws-credentials" in s.get("uses", "")
    )
    assert credentials["with"]["role-to-assume"].startswith("${{ vars.")
    assert "aws-access-key-id" not in credentials["with"]
    assert "secrets." not in WORKFLOW.read_text()


# ---------------------------------------------------------------------------------------------
# (b) Dockerfile: installs this repository's wheel, copies the instance config, runs as non-root
# ---------------------------------------------------------------------------------------------


def _stages() -> list[list[tuple[str, str]]]:
    """Instructions per stage as (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, args = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instruction.upper(), args.strip()))
    return stages


def test_dockerfile_is_multi_stage_on_python_311_slim():
    text = DOCKERFILE.read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)", text, re.MULTILINE).group(1)
    assert base.startswith("python:3.11-slim")
    stages = _stages()
    assert len(stages) == 2
    assert all(stage[0][1].startswith("${PYTHON_IMAGE}") for stage in stages)


def test_builder_builds_the_wheel_and_installs_only_the_runtime_lock():
    builder = " ".join(args for _, args in _stages()[0])
    assert "uv build" in builder and "--wheel" in builder
    assert "-r requirements-runtime.lock" in builder
    assert "requirements.lock" not in builder.replace("requirements-runtime.lock", "")


def test_runtime_stage_installs_that_wheel_and_the_instance_config_as_non_root():
    runtime = _stages()[-1]
    runs = [args for instruction, args in runtime if instruction == "RUN"]
    copies = [args for instruction, args in runtime if instruction == "COPY"]
    assert "--from=builder /opt/venv /opt/venv" in copies
    assert any("--from=builder /dist/" in c for c in copies)
    assert any("pip install" in r and "--no-deps" in r and "ml_platform-*.whl" in r for r in runs)
    assert any(c.endswith("deploy/dagster.yaml ${DAGSTER_HOME}/dagster.yaml") for c in copies)
    users = [args for instruction, args in runtime if instruction == "USER"]
    assert users, "the runtime stage never leaves root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert re.search(rf"useradd\b.*--uid {re.escape(user)}\b", " ".join(runs))
    cmd = next(args for instruction, args in runtime if instruction == "CMD")
    assert yaml.safe_load(cmd) == [
        "dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "3030",
        "-m", "ml_platform.definitions",
    ]  # fmt: skip


def test_every_path_the_dockerfile_copies_from_the_repository_exists():
    for stage in _stages():
        for instruction, args in stage:
            if instruction == "COPY" and "--from=" not in args:
                sources = [a for a in args.split() if not a.startswith("--")][:-1]
                for source in sources:
                    assert (REPO_ROOT / source).exists(), source


def test_runtime_lock_is_the_full_lock_without_test_and_dev_tools():
    def pins(path: Path) -> dict[str, str]:
        return dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", path.read_text(), re.MULTILINE))

    runtime, full = pins(RUNTIME_LOCK), pins(FULL_LOCK)
    assert not set(TEST_AND_DEV_TOOLS) & set(runtime)
    assert "dagster-k8s" in runtime  # run pods load the chart's K8sRunLauncher instance config
    differing = {name: (v, full[name]) for name, v in runtime.items() if full.get(name, v) != v}
    assert differing == {}, "requirements-runtime.lock pins differ from requirements.lock"


# ---------------------------------------------------------------------------------------------
# (c) SLOW (about 10-60 s, mostly the install from uv's cache): `make wheel` → a fresh virtualenv
#     with only the runtime lock → `dagster definitions validate` and `ml-platform serve` outside
#     the repository.
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built_wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        ["make", "-C", str(REPO_ROOT), "wheel", f"DIST_DIR={dist}"],
        check=True,
        capture_output=True,
        text=True,
    )
    wheels = list(dist.glob("ml_platform-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_ships_only_the_platform_package(built_wheel):
    top_level = {name.split("/")[0] for name in zipfile.ZipFile(built_wheel).namelist()}
    packages = {name for name in top_level if not name.endswith(".dist-info")}
    assert packages == {"ml_platform"}
    assert (
        "ml_platform/entity_matching/schemas/person.yaml" in zipfile.ZipFile(built_wheel).namelist()
    )


@dataclass(frozen=True)
class InstalledWheel:
    """The wheel installed into a fresh virtualenv with only the runtime lock, and a folder
    outside the repository to run it from (the repository's sources must not be importable)."""

    venv: Path
    elsewhere: Path
    env: dict[str, str]

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            args,
            check=False,
            cwd=self.elsewhere,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )


@pytest.fixture(scope="module")
def installed_wheel(built_wheel, tmp_path_factory) -> InstalledWheel:
    uv = shutil.which("uv", path=str(VENV_BIN))
    assert uv, "uv is not in the project's virtualenv"
    root = tmp_path_factory.mktemp("installed")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(python), "-r", str(RUNTIME_LOCK)],
        check=True,
    )
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", str(built_wheel)], check=True
    )
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        DAGSTER_HOME=str(root),
        DAGSTER_DISABLE_TELEMETRY="1",
        GX_ANALYTICS_ENABLED="false",
    )
    return InstalledWheel(venv, elsewhere, env)


def test_slow_wheel_installs_into_a_clean_venv_and_its_definitions_validate(installed_wheel):
    wheel = installed_wheel
    production = {
        "ML_PLATFORM_ENV": "production",
        "ML_PLATFORM_STORAGE_URI": "s3://bucket/dagster",
        "ML_PLATFORM_WAREHOUSE_URL": "postgresql+psycopg2://u:p@db.invalid:5432/warehouse",
    }
    wheel.env.update(production)
    try:
        python = str(wheel.venv / "bin" / "python")
        located = wheel.run(
            python, "-c", "import ml_platform, dagster_k8s; print(ml_platform.__file__)"
        )
        assert located.returncode == 0, located.stderr
        assert Path(located.stdout.strip()).is_relative_to(wheel.venv)
        for tool in TEST_AND_DEV_TOOLS:
            absent = wheel.run(
                python, "-c", f"import importlib.util as u; print(u.find_spec('{tool}'))"
            )
            assert absent.stdout.strip() == "None", f"{tool} is installed by the runtime lock"

        validated = wheel.run(
            str(wheel.venv / "bin" / "dagster"),
            "definitions",
            "validate",
            "-m",
            "ml_platform.definitions",
        )
        assert validated.returncode == 0, validated.stdout + validated.stderr
    finally:
        for name in production:
            del wheel.env[name]


def _store_a_trained_recommender(home: Path) -> None:
    """A small two-stage model, materialized where the local deployment's store keeps it."""
    import dagster as dg

    from ml_platform.core.storage import ObjectStore, ObjectStoreIOManager
    from ml_platform.demo_data.movielens import generate_movielens
    from ml_platform.recommender.ranking import RankingConfig, train_ranking
    from ml_platform.recommender.retrieval import RetrievalConfig, train_retrieval
    from ml_platform.recommender.two_stage import TwoStageRecommender

    data = generate_movielens(60, 150, 3_000, seed=3)
    retrieval = train_retrieval(data.ratings, data.movies, RetrievalConfig(epochs=1), seed=3)
    ranking = train_ranking(
        data.ratings, data.movies, RankingConfig(epochs=1), retrieval=retrieval, seed=3
    )

    @dg.asset(name="recommender_model")
    def recommender_model() -> TwoStageRecommender:
        return TwoStageRecommender(retrieval, ranking, data.ratings, data.movies)

    store = ObjectStore(base_uri=str(home / ".ml_platform" / "storage"))
    dg.materialize([recommender_model], resources={"io_manager": ObjectStoreIOManager(store=store)})


def test_slow_wheel_serves_a_stored_model_from_outside_the_repository(installed_wheel):
    import httpx

    wheel = installed_wheel
    _store_a_trained_recommender(wheel.elsewhere)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(wheel.venv / "bin" / "ml-platform"), "serve", "--port", str(port)],
        cwd=wheel.elsewhere,
        env={**wheel.env, "ML_PLATFORM_HOME": str(wheel.elsewhere)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.communicate()[1]
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the installed server never became ready"
            time.sleep(0.2)

        known = httpx.get(f"{url}/recommendations/1", params={"k": 3})
        new = httpx.post(
            f"{url}/recommendations", json={"ratings": [{"movie_id": 1, "rating": 5}], "k": 3}
        )
        assert known.status_code == 200 and len(known.json()["recommendations"]) == 3
        assert new.status_code == 200 and 1 not in {
            movie["movie_id"] for movie in new.json()["recommendations"]
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
