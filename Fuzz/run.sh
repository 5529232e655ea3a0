#!/bin/sh
# Runs each fuzz target for SECONDS seconds and prints libFuzzer's final summary for each:
# the "Done N runs" line and the stat:: lines.
#
# Usage: Fuzz/run.sh SECONDS [TARGET...]   (default: every target in Fuzz/corpus/)
#        FUZZ_RUNS=N [FUZZ_SEED=S] Fuzz/run.sh 0   a fixed number of runs instead, reproducible
#
# Each target works on a copy of its seeds in Fuzz/corpus-work/<target>/ (ignored by git), so
# the committed corpus never grows. A crash, a failed invariant or a timeout makes the script
# print the end of libFuzzer's output, keep the input in Fuzz/corpus-work/<target>/artifacts/,
# and exit 1 after the remaining targets have run.
set -u

here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:?usage: Fuzz/run.sh SECONDS [TARGET...]}
shift
bin="$here/.build/debug"
targets=${*:-$(ls "$here/corpus")}

# The Swift runtime's crash backtracer reads the stack itself, which AddressSanitizer reports
# as an overflow of its own; libFuzzer and ASan print the useful trace.
export SWIFT_BACKTRACE=enable=no

failed=""
for target in $targets; do
    work="$here/corpus-work/$target"
    # With FUZZ_RUNS set, each target starts from the committed seeds alone and makes exactly that
    # many runs from seed FUZZ_SEED (default 1), so the result is the same on every machine.
    if [ -n "${FUZZ_RUNS:-}" ]; then
        rm -rf "$work/corpus"
        limit="-runs=$FUZZ_RUNS -seed=${FUZZ_SEED:-1}"
    else
        limit="-max_total_time=$seconds"
    fi
    mkdir -p "$work/corpus" "$work/artifacts"
    cp -n "$here/corpus/$target/"* "$work/corpus/" 2>/dev/null
    log="$work/last-run.log"

    # shellcheck disable=SC2086 # $limit holds one or two options on purpose
    "$bin/$target" $limit -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/" "$work/corpus" >"$log" 2>&1
    status=$?

    runs=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1)
    if [ "$status" -eq 0 ] && [ -n "$runs" ]; then
        echo "$target: $runs"
        # The rest of libFuzzer's own summary (-print_final_stats=1): executions per second,
        # corpus growth and peak RSS.
        grep '^stat::' "$log" | sed 's/^/    /'
    else
        echo "$target: FAILED (exit status $status); end of $log:"
        tail -n 40 "$log"
        failed="$failed $target"
    fi
done

if [ -n "$failed" ]; then
    echo "fuzz targets failed:$failed"
    exit 1
fi
