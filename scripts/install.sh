# Sourced by demo.sh and test.sh: a project virtualenv with the locked dependencies, so a fresh
# Debian machine with Python 3.11 needs nothing else. The lock holds every extra (test, dev, k8s),
# so one install serves the demo and the tests alike.

_ML_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

install_platform() {
    local python="${PYTHON:-python3.11}"
    command -v "$python" >/dev/null 2>&1 || python=python3
    if [[ ! -x "$_ML_ROOT/.venv/bin/python" ]]; then
        echo "install: creating $_ML_ROOT/.venv with $("$python" --version)"
        "$python" -m venv "$_ML_ROOT/.venv" || return 1
    fi
    "$_ML_ROOT/.venv/bin/python" -m pip install -q --upgrade pip "uv==0.13.9" || return 1
    # the system certificate store (as pip uses it), not uv's bundled roots: package indexes
    # behind a company proxy present certificates only the system store trusts
    export UV_SYSTEM_CERTS=1
    # the lock pins every package for the whole dependency tree (test and dev tools included)
    "$_ML_ROOT/.venv/bin/uv" pip install -q --python "$_ML_ROOT/.venv/bin/python" \
        -r "$_ML_ROOT/requirements.lock" || return 1
    "$_ML_ROOT/.venv/bin/uv" pip install -q --python "$_ML_ROOT/.venv/bin/python" \
        --no-deps -e "$_ML_ROOT" || return 1
}
