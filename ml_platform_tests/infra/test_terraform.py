"""The Terraform in infra/: parses, has the module layout, and keeps its security properties.

Everything is asserted from the parsed HCL (python-hcl2), offline: no provider plugin, no AWS.
`scripts/infra_checks.sh` adds `terraform fmt -check` and checkov on the same files.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

hcl2 = pytest.importorskip("hcl2")

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MODULES = INFRA / "modules"
DEV = INFRA / "envs" / "dev"
EXPECTED_MODULES = {"network", "s3", "glue", "ecr", "eks", "rds", "iam", "kms"}
TF_FILES = sorted(INFRA.rglob("*.tf"))
_OPTIONS = hcl2.SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True
)


@functools.cache
def parse(path: Path) -> dict:
    with path.open() as f:
        return hcl2.load(f, serialization_options=_OPTIONS)


def blocks(directory: Path, kind: str) -> list[dict]:
    """All top-level `kind` blocks (resource, data, variable, output, ...) of a module."""
    out: list[dict] = []
    for path in sorted(directory.glob("*.tf")):
        out.extend(parse(path).get(kind, []))
    return out


def typed(directory: Path, kind: str, type_: str) -> dict[str, dict]:
    """{name: body} of the `kind "type_" "name"` blocks of a module."""
    found: dict[str, dict] = {}
    for block in blocks(directory, kind):
        for name, body in block.get(type_, {}).items():
            found[name] = body
    return found


def one(directory: Path, kind: str, type_: str) -> dict:
    found = typed(directory, kind, type_)
    assert len(found) == 1, f"expected one {kind} {type_} in {directory}, found {sorted(found)}"
    return next(iter(found.values()))


def named(directory: Path, kind: str) -> dict[str, dict]:
    """{name: body} of the single-label blocks (variable, output) of a module."""
    found: dict[str, dict] = {}
    for block in blocks(directory, kind):
        found.update(block)
    return found


def locals_of(directory: Path) -> dict:
    merged: dict = {}
    for block in blocks(directory, "locals"):
        merged.update(block)
    return merged


def sub(body: dict, name: str) -> dict:
    """The single nested block `name` of a block body."""
    value = body[name]
    assert isinstance(value, list) and len(value) == 1, f"one {name} block expected"
    return value[0]


def var_default(directory: Path, expression: object) -> object:
    """The default of `${var.x}`, or the literal itself."""
    if isinstance(expression, str) and (m := re.fullmatch(r"\$\{var\.(\w+)\}", expression)):
        return named(directory, "variable")[m.group(1)]["default"]
    return expression


def statements(document: dict) -> list[dict]:
    """Statements of an aws_iam_policy_document, including `dynamic "statement"` contents."""
    found = list(document.get("statement", []))
    for dynamic in document.get("dynamic", []):
        if "statement" in dynamic:
            found.extend(dynamic["statement"]["content"])
    return found


def as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


# ---- parsing and layout --------------------------------------------------------------------------


def test_infra_has_terraform():
    assert TF_FILES, "infra/ holds no .tf files"
    assert {p.name for p in MODULES.iterdir() if p.is_dir()} == EXPECTED_MODULES


@pytest.mark.parametrize("path", TF_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_every_tf_file_parses(path):
    assert isinstance(parse(path), dict)


@pytest.mark.parametrize("module", sorted(EXPECTED_MODULES))
def test_module_layout(module):
    directory = MODULES / module
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (directory / name).is_file(), f"{module} lacks {name}"
    assert named(directory, "output"), f"{module} has no outputs"


@pytest.mark.parametrize(
    "directory", [*sorted(MODULES.iterdir()), DEV], ids=lambda p: str(p.relative_to(INFRA))
)
def test_versions_are_pinned(directory):
    terraform = sub(parse(directory / "versions.tf"), "terraform")
    # "~> 1.x": within one major version, never an open-ended ">="
    assert re.fullmatch(r"~> 1\.\d+(\.\d+)?", terraform["required_version"])
    providers = sub(terraform, "required_providers")
    assert providers["aws"] == {"source": "hashicorp/aws", "version": providers["aws"]["version"]}
    assert re.fullmatch(r"~> 5\.\d+", providers["aws"]["version"])
    text = "\n".join(p.read_text() for p in directory.glob("*.tf"))
    uses_tls = re.search(r'(data|resource) "tls_', text) or (directory == DEV)
    if uses_tls:
        assert providers["tls"]["source"] == "hashicorp/tls"
        assert re.fullmatch(r"~> 4\.\d+", providers["tls"]["version"])
    for name, spec in providers.items():
        assert spec["version"].startswith("~>"), f"provider {name} is not pinned"


@pytest.mark.parametrize(
    "directory", [*sorted(MODULES.iterdir()), DEV], ids=lambda p: str(p.relative_to(INFRA))
)
def test_variables_typed_and_described_outputs_described(directory):
    for name, body in named(directory, "variable").items():
        assert "type" in body, f"variable {name} has no type"
        assert body.get("description"), f"variable {name} has no description"
    for name, body in named(directory, "output").items():
        assert body.get("description"), f"output {name} has no description"


def test_no_registry_modules():
    # nothing can be downloaded: every module source is a local path
    for path in TF_FILES:
        for block in parse(path).get("module", []):
            for name, body in block.items():
                assert body["source"].startswith("../"), f"{path}: module {name} is not local"


def test_checkov_skips_are_inline_with_a_reason():
    for path in TF_FILES:
        for line in path.read_text().splitlines():
            if "checkov:skip" in line:
                assert re.fullmatch(r"\s*#checkov:skip=CKV2?_AWS_\d+:.{30,}", line), (
                    f"{path}: checkov skip without an id and a real reason: {line.strip()}"
                )


# ---- security properties -------------------------------------------------------------------------


def test_bucket_encrypted_versioned_private_tls_only():
    s3 = MODULES / "s3"
    sse = sub(
        sub(one(s3, "resource", "aws_s3_bucket_server_side_encryption_configuration"), "rule"),
        "apply_server_side_encryption_by_default",
    )
    assert sse["sse_algorithm"] in {"aws:kms", "AES256"}
    if sse["sse_algorithm"] == "aws:kms":
        assert sse.get("kms_master_key_id"), "SSE-KMS without a customer-managed key"

    block = one(s3, "resource", "aws_s3_bucket_public_access_block")
    for setting in (
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ):
        assert block.get(setting) is True, f"public access block {setting} is not true"

    versioning = one(s3, "resource", "aws_s3_bucket_versioning")
    assert sub(versioning, "versioning_configuration")["status"] == "Enabled"

    lifecycle = one(s3, "resource", "aws_s3_bucket_lifecycle_configuration")
    rules = lifecycle["rule"]
    assert any(r["status"] == "Enabled" and "noncurrent_version_expiration" in r for r in rules)

    policy = typed(s3, "data", "aws_iam_policy_document")
    deny_plain_http = [
        s
        for doc in policy.values()
        for s in statements(doc)
        if s.get("effect") == "Deny"
        and any(
            c["variable"] == "aws:SecureTransport" and c["values"] == ["false"]
            for c in s.get("condition", [])
        )
    ]
    assert deny_plain_http, "bucket policy does not deny non-TLS requests"
    assert "aws_s3_bucket_policy" in {t for b in blocks(s3, "resource") for t in b}


def test_rds_encrypted_private_managed_password_backed_up():
    rds = MODULES / "rds"
    db = one(rds, "resource", "aws_db_instance")
    assert db["engine"] == "postgres"
    assert str(var_default(rds, db["engine_version"])).split(".")[0] == "15"
    assert db["storage_encrypted"] is True
    assert db.get("kms_key_id")
    assert db["publicly_accessible"] is False
    assert db["manage_master_user_password"] is True
    assert "password" not in db, "a literal master password would land in the state"
    assert db["iam_database_authentication_enabled"] is True
    assert db["performance_insights_enabled"] is True
    assert db.get("performance_insights_kms_key_id")
    assert int(var_default(rds, db["backup_retention_period"])) >= 7
    retention_var = re.fullmatch(r"\$\{var\.(\w+)\}", str(db["backup_retention_period"]))
    if retention_var:  # a variable may not be set below 7 either
        validation = named(rds, "variable")[retention_var.group(1)]["validation"][0]
        assert ">= 7" in validation["condition"]
    assert var_default(rds, db["deletion_protection"]) is True
    assert db["skip_final_snapshot"] is False
    # the subnet group takes the private subnets
    group = one(rds, "resource", "aws_db_subnet_group")
    assert group["subnet_ids"] == "${var.private_subnet_ids}"
    # ingress only from security groups, never from a CIDR
    for rule in typed(rds, "resource", "aws_vpc_security_group_ingress_rule").values():
        assert "cidr_ipv4" not in rule and "referenced_security_group_id" in rule


def test_ecr_scans_on_push_and_tags_are_immutable():
    ecr = MODULES / "ecr"
    repo = one(ecr, "resource", "aws_ecr_repository")
    assert repo["image_tag_mutability"] == "IMMUTABLE"
    assert sub(repo, "image_scanning_configuration")["scan_on_push"] is True
    assert sub(repo, "encryption_configuration")["encryption_type"] == "KMS"
    assert one(ecr, "resource", "aws_ecr_lifecycle_policy")


def test_eks_private_logged_encrypted_with_oidc():
    eks = MODULES / "eks"
    cluster = one(eks, "resource", "aws_eks_cluster")
    vpc = sub(cluster, "vpc_config")
    assert vpc["endpoint_private_access"] is True
    assert var_default(eks, vpc["endpoint_public_access"]) is False
    cidrs = named(eks, "variable")["public_access_cidrs"]
    assert "0.0.0.0/0" not in cidrs["default"]
    assert '!contains(var.public_access_cidrs, "0.0.0.0/0")' in cidrs["validation"][0]["condition"]
    assert "var.public_access_cidrs" in vpc["public_access_cidrs"]
    assert {"api", "audit", "authenticator"} <= set(cluster["enabled_cluster_log_types"])
    encryption = sub(cluster, "encryption_config")
    assert encryption["resources"] == ["secrets"]
    assert sub(encryption, "provider")["key_arn"]
    oidc = one(eks, "resource", "aws_iam_openid_connect_provider")
    assert oidc["client_id_list"] == ["sts.amazonaws.com"]
    nodes = one(eks, "resource", "aws_eks_node_group")
    assert nodes["subnet_ids"] == "${var.private_subnet_ids}"
    metadata = sub(one(eks, "resource", "aws_launch_template"), "metadata_options")
    assert metadata["http_tokens"] == "required" and metadata["http_put_response_hop_limit"] == 1


def test_network_spans_two_or_three_azs_with_nat():
    network = MODULES / "network"
    subnets = typed(network, "resource", "aws_subnet")
    assert {"public", "private"} <= set(subnets)
    assert all(s["count"] == "${var.az_count}" for s in subnets.values())
    assert subnets["public"]["map_public_ip_on_launch"] is False
    condition = named(network, "variable")["az_count"]["validation"][0]["condition"]
    assert "var.az_count >= 2" in condition and "var.az_count <= 3" in condition
    assert typed(network, "resource", "aws_nat_gateway")
    assert typed(network, "resource", "aws_flow_log")


def test_glue_table_matches_the_em_matches_export():
    glue = MODULES / "glue"
    assert named(glue, "variable")["database_name"]["default"] == "ml_platform"
    table = typed(glue, "resource", "aws_glue_catalog_table")["em_matches"]
    assert table["name"] == "em_matches"
    assert table["partition_keys"] == [
        {"name": "batch", "type": "string", "comment": table["partition_keys"][0]["comment"]}
    ]
    storage = sub(table, "storage_descriptor")
    columns = [(c["name"], c["type"]) for c in storage["columns"]]
    assert columns == [
        ("source_id", "string"),
        ("target_id", "string"),
        ("score", "double"),
        ("explanation", "string"),
    ]
    location = re.sub(
        r"\$\{local\.(\w+)\}", lambda m: locals_of(glue)[m.group(1)], storage["location"]
    )
    # the platform's storage URI (s3://<bucket>/<prefix>) + exports/em_matches/batch=<key>/
    assert location == "s3://${var.bucket_name}/${var.prefix}/exports/em_matches/"
    assert named(glue, "variable")["prefix"]["default"] == "dagster"
    assert "parquet" in storage["input_format"].lower()
    assert "ParquetHiveSerDe" in sub(storage, "ser_de_info")["serialization_library"]


def _policy_documents():
    for path in sorted(MODULES.iterdir()):
        for name, doc in typed(path, "data", "aws_iam_policy_document").items():
            yield path.name, name, doc


def test_no_wildcard_actions_or_resources_in_allow_statements():
    checked = 0
    for module, name, doc in _policy_documents():
        for statement in statements(doc):
            assert "not_actions" not in statement and "not_resources" not in statement
            if statement.get("effect", "Allow") != "Allow":
                continue  # a Deny with s3:* only narrows what is allowed
            checked += 1
            for action in as_list(statement.get("actions", [])):
                assert action != "*" and not action.endswith(":*"), (
                    f"{module}/{name}: wildcard action {action}"
                )
            resources = as_list(statement.get("resources", []))
            if module == "kms" and name == "key":
                continue  # a key policy's "*" resource is the key itself
            assert "*" not in resources, f"{module}/{name}: resource *"
    assert checked >= 10


def test_every_iam_policy_comes_from_a_checked_policy_document():
    # inline JSON would escape the wildcard test above
    for path in [*sorted(MODULES.iterdir()), DEV]:
        for type_, attribute in (
            ("aws_iam_policy", "policy"),
            ("aws_iam_role_policy", "policy"),
            ("aws_iam_role", "assume_role_policy"),
            ("aws_s3_bucket_policy", "policy"),
            ("aws_kms_key", "policy"),
        ):
            for name, body in typed(path, "resource", type_).items():
                assert re.fullmatch(
                    r"\$\{data\.aws_iam_policy_document\.\w+\.json\}", body[attribute]
                ), f"{path.name}: {type_}.{name}"


def test_irsa_role_trusts_only_the_dagster_service_account():
    iam = MODULES / "iam"
    trust = typed(iam, "data", "aws_iam_policy_document")["trust"]
    (statement,) = statements(trust)
    assert statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    assert statement["principals"][0]["type"] == "Federated"
    assert statement["principals"][0]["identifiers"] == ["${var.oidc_provider_arn}"]
    conditions = {c["variable"]: c for c in statement["condition"]}
    sub_condition = conditions["${var.oidc_issuer}:sub"]
    assert sub_condition["test"] == "StringEquals"  # not StringLike: no wildcard subjects
    subject = [
        re.sub(r"^\$\{local\.(\w+)\}$", lambda m: locals_of(iam)[m.group(1)], v)
        for v in sub_condition["values"]
    ]
    assert subject == ["system:serviceaccount:${var.namespace}:${var.service_account}"]
    assert conditions["${var.oidc_issuer}:aud"]["values"] == ["sts.amazonaws.com"]


def test_irsa_policy_is_scoped_to_the_bucket_prefix_and_the_catalog():
    iam = MODULES / "iam"
    access = statements(typed(iam, "data", "aws_iam_policy_document")["access"])
    s3_actions = {a for s in access for a in s["actions"] if a.startswith("s3:")}
    assert s3_actions == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"}
    for statement in access:
        actions = set(statement["actions"])
        resources = as_list(statement["resources"])
        if actions & {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}:
            assert resources == ["${var.bucket_arn}/${var.prefix}/*"]
        if "s3:ListBucket" in actions:
            assert resources == ["${var.bucket_arn}"]
            (condition,) = statement["condition"]
            assert condition["variable"] == "s3:prefix"
        if any(a.startswith("glue:") for a in actions):
            assert resources == [
                "${local.glue_base}:catalog",
                "${local.glue_base}:database/${var.glue_database_name}",
                "${local.glue_base}:table/${var.glue_database_name}/*",
            ]
            assert {
                "glue:BatchCreatePartition",
                "glue:CreateTable",
                "glue:UpdateTable",
                "glue:GetTable",
                "glue:GetPartition",
            } <= actions
            assert all(re.fullmatch(r"glue:(Get|Create|Update|BatchCreate)\w*", a) for a in actions)


def test_every_kms_key_rotates():
    key = one(MODULES / "kms", "resource", "aws_kms_key")
    assert key["enable_key_rotation"] is True


# ---- the dev environment -------------------------------------------------------------------------


def _env_example_names() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_dev_env_composes_every_module_with_a_partial_s3_backend():
    terraform = sub(parse(DEV / "versions.tf"), "terraform")
    assert terraform["backend"] == [{"s3": {}}], "backend must be partial (-backend-config)"
    sources = {body["source"] for block in blocks(DEV, "module") for body in block.values()}
    assert sources == {f"../../modules/{m}" for m in EXPECTED_MODULES - {"kms"}}
    for example in ("terraform.tfvars.example", "prod.tfvars"):
        values = hcl2.loads((DEV / example).read_text(), serialization_options=_OPTIONS)
        assert set(values) <= set(named(DEV, "variable")), f"{example} sets unknown variables"


def test_dev_env_outputs_what_the_deployment_needs():
    outputs = named(DEV, "output")
    assert {
        "bucket_name",
        "ml_platform_storage_uri",
        "ecr_repository_url",
        "rds_endpoint",
        "rds_master_user_secret_arn",
        "irsa_role_arn",
        "glue_database_name",
        "cluster_name",
    } <= set(outputs)
    assert outputs["ml_platform_storage_uri"]["value"] == "${module.s3.storage_uri}"
    s3_outputs = named(MODULES / "s3", "output")
    assert s3_outputs["storage_uri"]["value"] == "s3://${aws_s3_bucket.this.id}/${var.prefix}"
    assert named(MODULES / "s3", "variable")["prefix"]["default"] == "dagster"

    env = outputs["environment"]["value"]
    secret_env = outputs["environment_from_secret"]["value"]
    names = set(env) | set(secret_env)
    required = {
        "ML_PLATFORM_ENV",
        "ML_PLATFORM_STORAGE_URI",
        "ML_PLATFORM_WAREHOUSE_URL",
        "DAGSTER_PG_HOST",
        "DAGSTER_PG_PORT",
        "DAGSTER_PG_USER",
        "DAGSTER_PG_PASSWORD",
        "DAGSTER_PG_DB",
    }
    assert required <= names
    # the names are the ones the application and its docs use
    assert names <= _env_example_names()
    readme = (ROOT / "README.md").read_text()
    for name in required - {
        "DAGSTER_PG_HOST",
        "DAGSTER_PG_PORT",
        "DAGSTER_PG_USER",
        "DAGSTER_PG_PASSWORD",
        "DAGSTER_PG_DB",
    }:
        assert name in readme
    assert "DAGSTER_PG_" in readme
    assert env["ML_PLATFORM_ENV"] == "production"
    assert env["ML_PLATFORM_WAREHOUSE_URL"].startswith("postgresql+psycopg2://")
    assert "password" not in {k.lower() for k in env}, "secrets belong to environment_from_secret"
