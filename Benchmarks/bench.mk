# Benchmarks/bench.mk: the `bench` target, included by the top-level Makefile.
#
#   make bench                                    every case, about a minute on 2 cores
#   make bench BENCH_FLAGS="--filter xchacha"     a subset; see `ratsbote-bench --help`
#   make bench BENCH_FLAGS="--clock thread-cpu"   CPU time, for a machine shared with other work

BENCH_FLAGS ?=
BENCH_JSON ?= .build/bench-results.json

.PHONY: bench
bench:
	swift build -c release --product ratsbote-bench
	swift build -c release --product ratsbote-relay
	swift run -c release --skip-build ratsbote-bench --json $(BENCH_JSON) $(BENCH_FLAGS)
