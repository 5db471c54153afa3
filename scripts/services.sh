# Throwaway PostgreSQL and S3 (moto) servers on loopback for the tests, so nothing is mocked.
# Source it, then `start_services` (exports the connection variables) and `stop_services`
# (idempotent, safe from a trap). Works as root: the cluster runs as the `postgres` user.

_ML_SERVICES_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# runuser and PostgreSQL's helpers live in sbin, which a minimal or non-login PATH lacks
export PATH="$PATH:/usr/sbin:/sbin"

_services_python() {
    if [[ -x "$_ML_SERVICES_ROOT/.venv/bin/python" ]]; then
        echo "$_ML_SERVICES_ROOT/.venv/bin/python"
    else
        command -v python3
    fi
}

_services_free_port() {
    "$(_services_python)" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# PostgreSQL refuses to run as root, so as root every server command runs as `postgres`.
_services_as_postgres() {
    if [[ $EUID -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

_services_pg_bin() {
    local initdb
    initdb="$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -z "$initdb" ]]; then
        if [[ $EUID -ne 0 ]]; then
            echo "services.sh: PostgreSQL is not installed; run: sudo apt-get install postgresql" >&2
            return 1
        fi
        echo "services.sh: installing PostgreSQL with apt-get" >&2
        apt-get update -q >/dev/null &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql >/dev/null ||
            return 1
        initdb="$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)"
    fi
    dirname "$initdb"
}

# $1 = what is awaited (for the error), rest = a command that succeeds once the server answers.
_services_wait_for() {
    local what="$1"
    shift
    for _ in $(seq 60); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    echo "services.sh: $what did not answer within 30 s" >&2
    return 1
}

_services_start_postgres() {
    local bin dir="$_ML_SERVICES_DIR" port
    bin="$(_services_pg_bin)" || return 1
    _ML_SERVICES_PG_BIN="$bin"
    port="$(_services_free_port)"
    mkdir -p "$dir/pgdata" "$dir/pgsocket"
    if [[ $EUID -eq 0 ]]; then
        chown -R postgres: "$dir"
    fi
    # UTF-8 explicitly: with no locale in the environment initdb would pick SQL_ASCII
    _services_as_postgres "$bin/initdb" -D "$dir/pgdata" -U postgres --auth-local=trust \
        --encoding=UTF8 --locale=C.UTF-8 \
        --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 ||
        { echo "services.sh: initdb failed, see:" >&2; cat "$dir/initdb.log" >&2; return 1; }
    # A throwaway cluster: durability settings off make the tests faster.
    _services_as_postgres "$bin/pg_ctl" -D "$dir/pgdata" -l "$dir/postgres.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/pgsocket -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null ||
        { echo "services.sh: PostgreSQL did not start, see:" >&2; cat "$dir/postgres.log" >&2; return 1; }
    _services_wait_for "PostgreSQL on 127.0.0.1:$port" "$bin/pg_isready" -h 127.0.0.1 -p "$port" || return 1
    _services_as_postgres "$bin/psql" -q -v ON_ERROR_STOP=1 -h "$dir/pgsocket" -p "$port" -U postgres <<SQL || return 1
CREATE ROLE ml_platform LOGIN CREATEDB PASSWORD 'ml_platform';
CREATE DATABASE ml_platform OWNER ml_platform;
CREATE DATABASE dagster OWNER ml_platform;
SQL
    export ML_PLATFORM_TEST_POSTGRES_URL="postgresql+psycopg2://ml_platform:ml_platform@127.0.0.1:$port/ml_platform"
    export DAGSTER_PG_HOST=127.0.0.1 DAGSTER_PG_PORT="$port" DAGSTER_PG_USER=ml_platform \
        DAGSTER_PG_PASSWORD=ml_platform DAGSTER_PG_DB=dagster
}

_services_start_moto() {
    local moto="$_ML_SERVICES_ROOT/.venv/bin/moto_server" port url
    [[ -x "$moto" ]] || moto="$(command -v moto_server)" ||
        { echo "services.sh: moto_server not found; install moto[server]" >&2; return 1; }
    port="$(_services_free_port)"
    url="http://127.0.0.1:$port"
    "$moto" -H 127.0.0.1 -p "$port" >"$_ML_SERVICES_DIR/moto.log" 2>&1 &
    _ML_SERVICES_MOTO_PID=$!
    _services_wait_for "moto S3 server on $url" "$(_services_python)" -c \
        "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)" "$url" ||
        { cat "$_ML_SERVICES_DIR/moto.log" >&2; return 1; }
    export ML_PLATFORM_TEST_S3_ENDPOINT="$url"
    # moto accepts any credentials; real ones must never reach it.
    export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing \
        AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
    unset AWS_PROFILE
}

start_services() {
    stop_services
    _ML_SERVICES_DIR="$(mktemp -d "${TMPDIR:-/tmp}/ml_platform_services.XXXXXX")" || return 1
    if _services_start_postgres && _services_start_moto; then
        return 0
    fi
    stop_services
    return 1
}

stop_services() {
    if [[ -n "${_ML_SERVICES_MOTO_PID:-}" ]]; then
        kill "$_ML_SERVICES_MOTO_PID" 2>/dev/null || true
        wait "$_ML_SERVICES_MOTO_PID" 2>/dev/null || true
        unset _ML_SERVICES_MOTO_PID
    fi
    if [[ -n "${_ML_SERVICES_DIR:-}" ]]; then
        if [[ -f "$_ML_SERVICES_DIR/pgdata/postmaster.pid" ]]; then
            _services_as_postgres "$_ML_SERVICES_PG_BIN/pg_ctl" -D "$_ML_SERVICES_DIR/pgdata" -m fast -w stop \
                >/dev/null 2>&1 || true
        fi
        rm -rf "$_ML_SERVICES_DIR"
        unset _ML_SERVICES_DIR
    fi
    return 0
}
