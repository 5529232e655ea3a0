#!/bin/sh
# Runs each fuzz target for SECONDS seconds and prints libFuzzer's final "Done N runs" line.
#
# Usage: Fuzz/run.sh SECONDS [TARGET...]   (default: every target in Fuzz/corpus/)
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
    mkdir -p "$work/corpus" "$work/artifacts"
    cp -n "$here/corpus/$target/"* "$work/corpus/" 2>/dev/null
    log="$work/last-run.log"

    "$bin/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/" "$work/corpus" >"$log" 2>&1
    status=$?

    runs=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1)
    if [ "$status" -eq 0 ] && [ -n "$runs" ]; then
        echo "$target: $runs"
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
