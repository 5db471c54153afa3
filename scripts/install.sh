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

# The labelling UI's browser tests drive Debian's chromium through playwright (playwright's own
# browser download is never used: no network at run time). Installed here when missing.
install_browser() {
    command -v chromium >/dev/null 2>&1 && return 0
    if [[ $EUID -ne 0 ]]; then
        echo "install: chromium is missing; run: sudo apt-get install chromium" >&2
        return 1
    fi
    echo "install: installing chromium with apt-get" >&2
    apt-get update -q >/dev/null &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null
}
