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
# Later issues add one function per service here (ensure_postgres, ensure_s3, ...).
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

start_services() {
    # No service is needed yet. Later: ensure_postgres; ensure_s3
    :
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
