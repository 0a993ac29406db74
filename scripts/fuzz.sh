#!/bin/sh
# Runs the cargo-fuzz targets of fuzz/ one after the other, each for MINUTES minutes
# (default 10), and stops at the first crash. NOT part of the required test command
# (scripts/test.sh): fuzzing needs a nightly toolchain and cargo-fuzz.
#
#   scripts/fuzz.sh [MINUTES] [TARGET...]      # targets: dn filter query ldif schema_ldif
#
# Needs: rustup's nightly toolchain and `cargo install cargo-fuzz`. Each target's corpus
# grows in fuzz/corpus/TARGET (only the hand-written seed-* files are versioned); a crash is
# saved in fuzz/artifacts/TARGET/. Logs go to fuzz/logs/TARGET.log. Set CARGO_TARGET_DIR
# to keep the sanitizer build apart from other builds. Extra libFuzzer flags can be given in
# FUZZ_FLAGS (e.g. FUZZ_FLAGS=-max_len=16384).
set -eu
cd "$(dirname "$0")/.."

ALL_TARGETS="dn filter query ldif schema_ldif"

MINUTES=10
if [ $# -gt 0 ]; then
    case $1 in
    '' | *[!0-9]*) ;;
    *)
        MINUTES=$1
        shift
        ;;
    esac
fi
TARGETS=${*:-$ALL_TARGETS}
for t in $TARGETS; do
    case " $ALL_TARGETS " in
    *" $t "*) ;;
    *)
        echo "fuzz.sh: unknown target '$t' (targets: $ALL_TARGETS)" >&2
        exit 2
        ;;
    esac
done

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz.sh: needs a nightly toolchain: rustup toolchain install nightly" >&2
    exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: needs cargo-fuzz: cargo install cargo-fuzz" >&2
    exit 2
fi

SECONDS_EACH=$((MINUTES * 60))
mkdir -p fuzz/logs
cd fuzz
echo "==> building the fuzz targets"
cargo +nightly fuzz build --debug-assertions

SUMMARY=
for t in $TARGETS; do
    log=logs/$t.log
    echo "==> fuzzing $t for $MINUTES minute(s) (log: fuzz/$log)"
    # -timeout: an input taking over 10 s is a hang, reported like a crash.
    # shellcheck disable=SC2086 # FUZZ_FLAGS is a list of flags
    if ! cargo +nightly fuzz run --debug-assertions "$t" -- -max_total_time="$SECONDS_EACH" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 ${FUZZ_FLAGS:-} >"$log" 2>&1; then
        tail -n 40 "$log"
        echo
        echo "fuzz.sh: CRASH in target '$t' (full log: fuzz/$log)." >&2
        grep -E 'Test unit written to|SUMMARY' "$log" >&2 || true
        echo "Reproduce: (cd fuzz && cargo +nightly fuzz run $t artifacts/$t/<file>)" >&2
        echo "Minimise:  (cd fuzz && cargo +nightly fuzz tmin $t artifacts/$t/<file>)" >&2
        echo "Then fix it in heracles-core and add the input as a regression test." >&2
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1 | sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+).*/cov \1, features \2, corpus \3/')
    line="$t: $MINUTES min, ${runs:-?} executions, ${cov:-no coverage line}, no crash"
    echo "    $line"
    SUMMARY="$SUMMARY
$line"
done
echo
echo "==> summary$SUMMARY"
