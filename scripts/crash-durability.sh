#!/bin/sh
# Crash durability: kills a real relay with SIGKILL at random moments while a sender sends
# numbered envelopes, restarts it, and checks that every envelope the relay acknowledged as
# stored reaches the receiving application exactly once after deduplication.
#
#   scripts/crash-durability.sh            5 cycles, under a minute (meant for `make test`)
#   scripts/crash-durability.sh 1000       the long run documented in docs/reliability.md
#   CRASH_FLAGS="--seed 42" scripts/crash-durability.sh 20    repeat a run's kill moments
#
# Exit status: 0 when nothing acknowledged is missing, 1 otherwise.
set -eu

cycles="${1:-5}"
case "$cycles" in
    '' | *[!0-9]*) echo "usage: $0 [CYCLES]  (CYCLES is a positive whole number, default 5)" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.."
swift build -c release --product ratsbote-relay
swift build -c release --product ratsbote-bench
bin="$(swift build -c release --show-bin-path)"
# shellcheck disable=SC2086 # CRASH_FLAGS holds several options on purpose
exec "$bin/ratsbote-bench" crash-check --cycles "$cycles" ${CRASH_FLAGS:-}
