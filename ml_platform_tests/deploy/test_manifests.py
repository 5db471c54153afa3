"""The Kubernetes manifests of the apps (deploy/k8s): rendered for dev and prod, every object
validated against Kubernetes' own OpenAPI schemas (offline, `kubernetes-validate`), and the
properties a production workload needs asserted on the rendered objects."""

import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from ml_platform import cli
from ml_platform_tests.deploy.kustomize import render

REPO_ROOT = Path(__file__).resolve().parents[2]
K8S = REPO_ROOT / "deploy" / "k8s"
DEPLOY_DOC = REPO_ROOT / "docs" / "deploy.md"
ENVIRONMENTS = ("dev", "prod")
# The EKS version of infra/envs/dev (variable kubernetes_version); the schemas are that
# version's, bundled in the package.
KUBERNETES_VERSION = "1.33.0"
SERVING, LABELLING, CONSUMER = (
    "ml-platform-serving",
    "ml-platform-labelling",
    "ml-platform-consumer",
)


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def rendered(request) -> dict[tuple[str, str], dict]:
    return {(o["kind"], o["metadata"]["name"]): o for o in render(K8S / "overlays" / request.param)}


def pod(rendered, name: str) -> dict:
    return rendered[("Deployment", name)]["spec"]["template"]["spec"]


def container(rendered, name: str) -> dict:
    (only,) = pod(rendered, name)["containers"]
    return only


def environment(rendered, name: str) -> dict[str, str]:
    """The container's variables as the kubelet sets them: envFrom's ConfigMap, then env."""
    spec = container(rendered, name)
    variables: dict[str, str] = {}
    for source in spec.get("envFrom", []):
        if "configMapRef" in source:
            data = rendered[("ConfigMap", source["configMapRef"]["name"])]["data"]
            variables.update(data)
    for variable in spec.get("env", []):
        variables[variable["name"]] = variable.get("value", "<from a reference>")
    return variables


def cli_arguments(rendered, name: str) -> list[str]:
    """The container's args after the kubelet's $(VAR) expansion: the `ml-platform` CLI's."""
    variables = environment(rendered, name)
    spec = container(rendered, name)
    assert spec["command"] == ["ml-platform"]  # the image's console script
    return [re.sub(r"\$\((\w+)\)", lambda m: variables[m.group(1)], a) for a in spec["args"]]


def test_every_object_of_dev_and_prod_is_valid_for_the_clusters_kubernetes_version(rendered):
    kinds = sorted(kind for kind, _ in rendered)
    assert kinds == sorted(
        ["ConfigMap", "Deployment", "Deployment", "Deployment", "HorizontalPodAutoscaler",
         "PodDisruptionBudget", "PodDisruptionBudget", "Service", "Service"]
    )  # fmt: skip
    for obj in rendered.values():
        # strict: an unknown (misspelt) field is an error, not silently dropped by the API server
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        assert obj["metadata"]["namespace"] == "dagster"  # the IRSA service account's


def test_a_misspelt_field_fails_validation():
    """The validation above would catch what the API server rejects or ignores."""
    objects = {(o["kind"], o["metadata"]["name"]): o for o in render(K8S / "overlays" / "dev")}
    broken = objects[("Deployment", SERVING)]
    probe = broken["spec"]["template"]["spec"]["containers"][0].pop("readinessProbe")
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = probe
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with kustomize) not here")
@pytest.mark.parametrize("environment_name", ENVIRONMENTS)
def test_the_python_rendering_is_what_kubectl_kustomize_renders(environment_name):
    overlay = K8S / "overlays" / environment_name
    printed = subprocess.run(
        ["kubectl", "kustomize", str(overlay)], capture_output=True, text=True, check=True
    ).stdout
    by_key = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(printed)}
    assert by_key == {(o["kind"], o["metadata"]["name"]): o for o in render(overlay)}


def test_every_app_runs_as_non_root_on_a_read_only_root_filesystem_with_a_tmp_volume(rendered):
    for name in (SERVING, LABELLING, CONSUMER):
        spec = pod(rendered, name)
        assert spec["serviceAccountName"] == "dagster"  # the one the IRSA role trusts
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == 10001  # the Dockerfile's USER
        security = container(rendered, name)["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        mounts = {m["mountPath"]: m["name"] for m in container(rendered, name)["volumeMounts"]}
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]]
        assert environment(rendered, name)["HOME"] == "/tmp"
        resources = container(rendered, name)["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]) and "memory" in resources["limits"]


def test_serving_runs_one_worker_per_pod_probed_on_readyz_and_healthz(rendered):
    args = cli.build_parser().parse_args(cli_arguments(rendered, SERVING))
    assert (args.product, args.host, args.workers) == ("serve", "0.0.0.0", 1)
    spec = container(rendered, SERVING)
    ports = {p["name"]: p["containerPort"] for p in spec["ports"]}
    assert ports["http"] == args.port
    assert spec["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert spec["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    annotations = rendered[("Deployment", SERVING)]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(args.port)


def test_the_autoscaler_owns_the_serving_pods_and_a_disruption_budget_keeps_some(rendered):
    deployment = rendered[("Deployment", SERVING)]
    assert "replicas" not in deployment["spec"]  # an apply would reset the HPA's count
    hpa = rendered[("HorizontalPodAutoscaler", SERVING)]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": SERVING}
    (metric,) = hpa["metrics"]
    assert (
        metric["resource"]["name"] == "cpu"
        and metric["resource"]["target"]["type"] == "Utilization"
    )
    assert 1 <= hpa["minReplicas"] < hpa["maxReplicas"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    for selector in (
        rendered[("PodDisruptionBudget", SERVING)]["spec"]["selector"]["matchLabels"],
        rendered[("Service", SERVING)]["spec"]["selector"],
        deployment["spec"]["selector"]["matchLabels"],
    ):
        assert selector.items() <= labels.items()
    assert rendered[("PodDisruptionBudget", SERVING)]["spec"]["maxUnavailable"] == 1


def test_prod_serves_from_more_pods_and_consumes_with_more_replicas_than_dev():
    dev, prod = ({(o["kind"], o["metadata"]["name"]): o for o in render(K8S / "overlays" / e)}
                 for e in ENVIRONMENTS)  # fmt: skip
    hpa = ("HorizontalPodAutoscaler", SERVING)
    assert prod[hpa]["spec"]["minReplicas"] >= 3 > dev[hpa]["spec"]["minReplicas"]
    consumers = ("Deployment", CONSUMER)
    assert prod[consumers]["spec"]["replicas"] == 3 > dev[consumers]["spec"]["replicas"]


def test_the_consumer_follows_kafka_in_one_group_classifies_and_exports_metrics(rendered):
    args = cli.build_parser().parse_args(cli_arguments(rendered, CONSUMER))
    assert (args.product, args.command) == ("tweets", "ingest")
    assert args.follow and args.classify and args.landing is None
    assert (
        args.kafka_bootstrap_servers
        == rendered[("ConfigMap", "ml-platform-apps")]["data"]["KAFKA_BOOTSTRAP_SERVERS"]
    )
    # one group name in the pod template: every replica joins it and gets its share of partitions
    assert args.kafka_group == "ml-platform-tweets"
    spec = container(rendered, CONSUMER)
    assert {p["name"]: p["containerPort"] for p in spec["ports"]}["metrics"] == args.metrics_port
    assert spec["livenessProbe"]["httpGet"]["port"] == "metrics"
    # SIGTERM finishes the batch in hand: the grace period must outlast one
    assert pod(rendered, CONSUMER)["terminationGracePeriodSeconds"] >= 60


def test_labelling_reads_its_tokens_and_session_secret_from_a_secret(rendered):
    args = cli.build_parser().parse_args(cli_arguments(rendered, LABELLING))
    assert (args.product, args.command, args.host) == ("labelling", "serve", "0.0.0.0")
    env = {v["name"]: v for v in container(rendered, LABELLING)["env"]}
    for name, key in (("ML_PLATFORM_LABELLING_TOKENS", "tokens"),
                      ("ML_PLATFORM_LABELLING_SECRET", "session-secret")):  # fmt: skip
        assert env[name]["valueFrom"]["secretKeyRef"] == {
            "name": "ml-platform-labelling",
            "key": key,
        }
    spec = container(rendered, LABELLING)
    assert {p["name"]: p["containerPort"] for p in spec["ports"]}["http"] == args.port
    assert spec["readinessProbe"]["httpGet"]["path"] == "/metrics"  # outside the token gate


def test_the_variables_the_manifests_set_are_the_ones_the_code_reads(rendered):
    source = "\n".join(p.read_text() for p in (REPO_ROOT / "ml_platform").rglob("*.py"))
    read_by_code = set(re.findall(r"\b(ML_PLATFORM_[A-Z_]+)\b", source))
    for name in (SERVING, LABELLING, CONSUMER):
        for variable in environment(rendered, name):
            if variable.startswith("ML_PLATFORM_"):
                assert variable in read_by_code, f"{name}: {variable} is read by no code"
        for reference in re.findall(r"\$\((\w+)\)", " ".join(container(rendered, name)["args"])):
            assert reference in environment(rendered, name), f"{name}: $({reference}) undefined"


def test_no_secret_value_is_in_the_repository_only_references_to_secrets(rendered):
    assert not [key for key in rendered if key[0] == "Secret"]
    for name in (SERVING, LABELLING, CONSUMER):
        spec = container(rendered, name)
        for variable in spec.get("env", []):
            secretish = re.search(r"TOKEN|SECRET|PASSWORD|_URL$|_URI$", variable["name"])
            assert not (secretish and "value" in variable), f"{name}: {variable['name']} inline"
        # the Dagster release's Secret also holds the instance's PostgreSQL password
        sources = [s.get("secretRef", {}).get("name") for s in spec.get("envFrom", [])]
        assert "ml-platform-env" not in sources
    config = rendered[("ConfigMap", "ml-platform-apps")]["data"]
    assert not [k for k in config if re.search(r"TOKEN|SECRET|PASSWORD|_URL$", k)]
    for path in K8S.rglob("*.yaml"):
        text = path.read_text()
        assert not re.search(r"postgres(ql)?(\+\w+)?://[^\s:]+:[^\s@]+@", text), path
        assert not re.search(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b", text), path


def referenced_secrets(rendered) -> set[str]:
    names = set()
    for name in (SERVING, LABELLING, CONSUMER):
        spec = container(rendered, name)
        names |= {s["secretRef"]["name"] for s in spec.get("envFrom", []) if "secretRef" in s}
        names |= {
            v["valueFrom"]["secretKeyRef"]["name"]
            for v in spec.get("env", [])
            if "secretKeyRef" in v.get("valueFrom", {})
        }
    return names


def test_the_deploy_guide_creates_every_secret_the_manifests_reference(rendered):
    guide = DEPLOY_DOC.read_text()
    for secret in referenced_secrets(rendered):
        assert re.search(rf"(create secret generic\s+|\"name\": \"){re.escape(secret)}\b", guide), (
            secret
        )
    # the labelling Secret's keys are the ones the Deployment reads
    keys = set(re.findall(r"--from-literal=([a-z-]+)=", guide.split("ml-platform-labelling", 1)[1]))
    assert {"tokens", "session-secret"} <= keys


def release_kustomization(environment_name: str, image: str, tag: str, brokers: str) -> str:
    """The release kustomization exactly as the deploy guide writes it, its shell variables set."""
    guide = DEPLOY_DOC.read_text()
    (heredoc,) = re.findall(
        r'cat > "\$RELEASE/kustomization\.yaml" <<EOF\n(.*?)\nEOF\n', guide, re.DOTALL
    )
    values = {
        "$ENVIRONMENT": environment_name,
        "$ECR_REPOSITORY_URL": image,
        "$(git rev-parse HEAD)": tag,
        "$KAFKA_BOOTSTRAP_SERVERS": brokers,
    }
    for variable, value in values.items():
        heredoc = heredoc.replace(variable, value)
    assert "$" not in heredoc.replace("$(KAFKA", ""), heredoc
    return heredoc


@pytest.mark.parametrize("environment_name", ENVIRONMENTS)
def test_the_guides_release_step_sets_every_image_and_the_brokers(environment_name):
    release = K8S / "release"  # where the guide writes it (ignored by git)
    assert "RELEASE=deploy/k8s/release" in DEPLOY_DOC.read_text()
    repository, tag = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ml-platform", "0" * 40
    text = release_kustomization(environment_name, repository, tag, "b-1.kafka.internal:9092")
    release.mkdir(exist_ok=True)
    try:
        (release / "kustomization.yaml").write_text(text)
        objects = {(o["kind"], o["metadata"]["name"]): o for o in render(release)}
    finally:
        shutil.rmtree(release)
    for name in (SERVING, LABELLING, CONSUMER):
        assert container(objects, name)["image"] == f"{repository}:{tag}"
    assert objects[("ConfigMap", "ml-platform-apps")]["data"]["KAFKA_BOOTSTRAP_SERVERS"] == (
        "b-1.kafka.internal:9092"
    )
