#!/usr/bin/env bash
# Runs every fuzz target in turn, one at a time, for SECONDS each (default 60) or
# 10 million executions, whichever comes first (all targets, or those named).
#
#   fuzz/run.sh [SECONDS [TARGET...]]
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). New interesting
# inputs go to fuzz/corpus/TARGET (minimise before committing: `cargo +nightly fuzz cmin
# TARGET`); the valid seeds in fuzz/seeds/TARGET (fuzz/src/bin/gen_seeds.rs) start it.
# Crashes go to fuzz/artifacts/TARGET; the run goes on after a crash, and the script
# fails at the end if any target crashed. Logs: fuzz/logs/TARGET.log.
# With TAPEGRAD_FUZZ_CORE_ONLY=1 only panics and the memory bound count, not what an Ok
# result promises (to fuzz past a recorded result bug; see fuzz/src/contract.rs); its logs
# are fuzz/logs/TARGET-core.log. TAPEGRAD_FUZZ_SANITIZER=none (default: address) skips
# AddressSanitizer, which safe Rust rarely needs: several times the executions per second.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
# Fast targets first.
targets=(data_spec csv idx_plain idx_gz model_file run_state cifar10)
if (($# > 1)); then
    targets=("${@:2}")
fi

# Each target is built by its own `fuzz run` (building every binary at once would also link
# the seed generator, which has no fuzzer runtime without a sanitizer).
sanitizer=${TAPEGRAD_FUZZ_SANITIZER:-address}
mkdir -p fuzz/logs
failed=()
for target in "${targets[@]}"; do
    max_len=8192
    [[ $target == cifar10 ]] && max_len=40000 # six files of whole 3,073-byte records
    log="fuzz/logs/$target${TAPEGRAD_FUZZ_CORE_ONLY:+-core}.log"
    echo "== $target: ${seconds}s"
    # -fork=1 with -ignore_*: keep fuzzing after a crash, saving every crashing input.
    # -malloc_limit_mb: no single allocation above 256 MiB; -rss_limit_mb: the process.
    mkdir -p "fuzz/artifacts/$target"
    before=$(find "fuzz/artifacts/$target" -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' | wc -l)
    cargo +nightly fuzz run --debug-assertions -s "$sanitizer" "$target" \
        "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
        -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
        -max_total_time="$seconds" -runs=10000000 -max_len="$max_len" -timeout=10 \
        -rss_limit_mb=2048 -malloc_limit_mb=256 -print_final_stats=1 \
        >"$log" 2>&1 || true
    after=$(find "fuzz/artifacts/$target" -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' | wc -l)
    ((after > before)) && failed+=("$target")
    grep -E '^#[0-9]+.*(DONE|exec/s)' "$log" | tail -n 1 || true
    rm -rf /dev/shm/tapegrad-fuzz-"$target"-*
done
if ((${#failed[@]})); then
    echo "crashes in: ${failed[*]} (see fuzz/artifacts/ and fuzz/logs/)" >&2
    exit 1
fi
