#!/usr/bin/env bash
# Run one cargo-fuzz target for a fixed time.
#
# Usage: scripts/fuzz.sh TARGET SECONDS      (from any directory)
#
# The checked-in seeds in fuzz/seeds/TARGET are copied into the scratch corpus
# fuzz/corpus/TARGET (gitignored), which is where libFuzzer writes new inputs; the
# seeds themselves are never modified. Crashes land in fuzz/artifacts/TARGET.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 TARGET SECONDS" >&2
    exit 2
fi
TARGET="$1"
SECONDS_TO_RUN="$2"
# libFuzzer treats -max_total_time=0 as "no limit", so 0 is refused here.
if ! [[ "$SECONDS_TO_RUN" =~ ^[0-9]+$ ]] || ((10#$SECONDS_TO_RUN == 0)); then
    echo "SECONDS must be a positive whole number, got '$SECONDS_TO_RUN'" >&2
    exit 2
fi
SECONDS_TO_RUN=$((10#$SECONDS_TO_RUN))

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ ! -f "fuzz/fuzz_targets/$TARGET.rs" ]]; then
    echo "no fuzz target '$TARGET' (expected fuzz/fuzz_targets/$TARGET.rs)" >&2
    exit 2
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

CORPUS="$ROOT/fuzz/corpus/$TARGET"
SEEDS="$ROOT/fuzz/seeds/$TARGET"
mkdir -p "$CORPUS"
if [[ -d "$SEEDS" ]]; then
    cp -R "$SEEDS/." "$CORPUS/"
fi

# cargo-fuzz builds into fuzz/target; a workspace-wide CARGO_TARGET_DIR would mix
# sanitizer builds with ordinary ones. RUSTC_BOOTSTRAP lets the stable toolchain
# accept the nightly-only flags cargo-fuzz passes.
# The first corpus directory given to libFuzzer is the one it writes to.
env -u CARGO_TARGET_DIR RUSTC_BOOTSTRAP=1 \
    cargo fuzz run "$TARGET" "$CORPUS" -- \
    -max_total_time="$SECONDS_TO_RUN" -rss_limit_mb=2048
