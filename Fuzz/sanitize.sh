#!/bin/sh
# Runs the test suite under one sanitizer and fails if the sanitizer reported anything.
#
# Usage: Fuzz/sanitize.sh address|thread
#
# The build goes to .build/asan or .build/tsan, apart from the normal build. Reports are written to
# files in .build/<asan|tsan>/reports/ rather than to stderr, because the end-to-end tests start
# sanitized CLIs and relays whose stderr the tests capture; a report there would otherwise be
# lost. Every report file is printed after the run, and any report fails the run.
set -u

sanitizer=${1:?usage: Fuzz/sanitize.sh address|thread}
root=$(cd "$(dirname "$0")/.." && pwd)
case "$sanitizer" in
address) scratch="$root/.build/asan" ;;
thread) scratch="$root/.build/tsan" ;;
*) echo "Fuzz/sanitize.sh: unknown sanitizer '$sanitizer', expected address or thread" >&2; exit 2 ;;
esac
reports="$scratch/reports"
rm -rf "$reports"
mkdir -p "$reports"

# The Swift runtime's crash backtracer and the sanitizers both handle crashes; keep the sanitizer's.
export SWIFT_BACKTRACE=enable=no
# LeakSanitizer runs with AddressSanitizer; the file lists toolchain and test-harness leaks only.
export ASAN_OPTIONS="log_path=$reports/report"
export LSAN_OPTIONS="suppressions=$root/Fuzz/lsan-suppressions.txt:print_suppressions=0"
export TSAN_OPTIONS="log_path=$reports/report"

cd "$root" && swift test --sanitize="$sanitizer" --scratch-path "$scratch"
status=$?

if ls "$reports"/report.* >/dev/null 2>&1; then
    for report in "$reports"/report.*; do
        echo "== $report"
        cat "$report"
    done
    echo "sanitize-$sanitizer: the sanitizer reported problems (files above, in $reports)"
    exit 1
fi
if [ "$status" -ne 0 ]; then
    echo "sanitize-$sanitizer: swift test failed with status $status and no sanitizer report"
    exit "$status"
fi
echo "sanitize-$sanitizer: tests passed, no sanitizer reports"
