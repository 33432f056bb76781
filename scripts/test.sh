#!/usr/bin/env bash
# The whole keelson test suite: formatting, lints, tests, and (on request) fuzzing.
#
# Usage: scripts/test.sh                      (from any directory)
#        KEELSON_FUZZ_SECONDS=60 scripts/test.sh   also fuzz every target for 60 s
#
# Idempotent: it installs only what is missing and leaves nothing running.
# An existing CARGO_TARGET_DIR is respected; CI is passed through unchanged.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ -n "${CI+x}" ]]; then
    export CI
fi

step() {
    printf '\n==> %s\n' "$*"
}

# --- services ----------------------------------------------------------------
# One function per service (ensure_postgres, ensure_s3).
# Each starts its server on loopback only, exports the environment variables the
# tests read (e.g. KEELSON_PG_URL), and registers its shutdown with the EXIT trap
# below through `on_exit`, so nothing is left running when the script ends.
CLEANUP=()

on_exit() {
    CLEANUP+=("$1")
}

cleanup() {
    local i
    for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do
        eval "${CLEANUP[i]}" || true
    done
}
trap cleanup EXIT

# A free TCP port on loopback (the kernel picks one; a race with another
# process taking it before the server binds is possible but harmless: the
# server then fails to start and the wait below reports it).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}


# Runs a command as root: directly when we are root, else through sudo.
as_root() {
    if ((EUID == 0)); then
        "$@"
    else
        sudo "$@"
    fi
}

# Runs a command as the `postgres` user when we are root (initdb and the
# server refuse to run as root), else as ourselves.
as_postgres() {
    if ((EUID != 0)); then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u postgres -- "$@"
    else
        su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
    fi
}

# The bin directory of the newest PostgreSQL under /usr/lib/postgresql.
postgres_bindir() {
    local dir
    dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1)"
    [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]] && printf '%s\n' "$dir"
}

# Stops the throwaway server (if it runs) and removes its directory.
stop_postgres() {
    local bin="$1" dir="$2"
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$dir"
}

# PostgreSQL for the lineage tests: an existing KEELSON_PG_URL is used as it
# is; otherwise a throwaway server is initialised in a temporary directory
# and started on a free loopback port, and stopped and removed on exit (also
# when a later step fails).
ensure_postgres() {
    if [[ -n "${KEELSON_PG_URL:-}" ]]; then
        export KEELSON_PG_URL
        return 0
    fi
    local bin
    if ! bin="$(postgres_bindir)"; then
        step "installing PostgreSQL"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        bin="$(postgres_bindir)" || {
            echo "PostgreSQL installed, but no /usr/lib/postgresql/*/bin with initdb and pg_ctl" >&2
            exit 1
        }
    fi
    local dir port
    dir="$(mktemp -d "${TMPDIR:-/tmp}/keelson-pg.XXXXXX")"
    on_exit "stop_postgres $(printf '%q' "$bin") $(printf '%q' "$dir")"
    if ((EUID == 0)); then
        chown postgres: "$dir"
    fi
    port="$(free_port)"
    step "starting PostgreSQL ($bin) on 127.0.0.1:$port"
    if ! as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        exit 1
    fi
    if ! as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1" -w start >/dev/null; then
        cat "$dir/log" >&2
        exit 1
    fi
    export KEELSON_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

# An S3-compatible server for keelson-artifact's S3 conformance tests: moto's
# server from PyPI, in a virtual environment created once under the tools
# directory. moto answers create-only and If-Match writes with 412 as S3 does.
ensure_s3() {
    local tools="${KEELSON_TOOLS_DIR:-$HOME/.cache/keelson}"
    local venv="$tools/moto"
    if [[ ! -x "$venv/bin/moto_server" ]]; then
        step "installing moto[server] into $venv"
        mkdir -p "$tools"
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet 'moto[server]'
    fi
    local port log
    port="$(free_port)"
    log="$(mktemp "${TMPDIR:-/tmp}/keelson-moto.XXXXXX.log")"
    step "starting moto_server on 127.0.0.1:$port (log: $log)"
    "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
    local pid=$!
    on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f '$log'"
    local i
    for ((i = 0; i < 100; i++)); do
        if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/', timeout=1)" >/dev/null 2>&1; then
            break
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "moto_server exited; its log:" >&2
            cat "$log" >&2
            exit 1
        fi
        sleep 0.2
    done
    if ((i == 100)); then
        echo "moto_server did not answer on 127.0.0.1:$port within 20 s" >&2
        exit 1
    fi
    export KEELSON_S3_ENDPOINT="http://127.0.0.1:$port"
    export AWS_ACCESS_KEY_ID=keelson-test
    export AWS_SECRET_ACCESS_KEY=keelson-test
    export AWS_DEFAULT_REGION=us-east-1
}

start_services() {
    ensure_postgres
    ensure_s3
}

# --- tools -------------------------------------------------------------------
ensure_tools() {
    local component
    for component in rustfmt clippy; do
        local probe
        case "$component" in
            rustfmt) probe=(cargo fmt --version) ;;
            clippy) probe=(cargo clippy --version) ;;
        esac
        if ! "${probe[@]}" >/dev/null 2>&1; then
            step "installing the $component component"
            rustup component add "$component"
        fi
    done
    if fuzz_requested && ! cargo fuzz --version >/dev/null 2>&1; then
        step "installing cargo-fuzz"
        cargo install cargo-fuzz --locked
    fi
}

# --- steps -------------------------------------------------------------------
run_fmt() {
    step "cargo fmt --all --check"
    cargo fmt --all --check
}

run_clippy() {
    step "cargo clippy --workspace --all-targets --all-features -- -D warnings"
    cargo clippy --workspace --all-targets --all-features -- -D warnings
}

run_tests() {
    step "cargo test --workspace --all-features"
    cargo test --workspace --all-features
}

# Fuzzing is on when KEELSON_FUZZ_SECONDS is a positive whole number; unset, empty
# or 0 turns it off. Checked before the long steps so a typo fails fast.
fuzz_requested() {
    local seconds="${KEELSON_FUZZ_SECONDS:-}"
    if [[ -z "$seconds" ]]; then
        return 1
    fi
    if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
        echo "KEELSON_FUZZ_SECONDS must be a whole number of seconds, got '$seconds'" >&2
        exit 2
    fi
    ((10#$seconds > 0))
}

run_fuzz() {
    if ! fuzz_requested; then
        return 0
    fi
    local seconds=$((10#$KEELSON_FUZZ_SECONDS))
    local target_file target
    for target_file in fuzz/fuzz_targets/*.rs; do
        target="$(basename "$target_file" .rs)"
        step "fuzz $target for ${seconds}s"
        scripts/fuzz.sh "$target" "$seconds"
    done
}

main() {
    start_services
    ensure_tools
    run_fmt
    run_clippy
    run_tests
    run_fuzz
    step "all steps passed"
}

main "$@"
