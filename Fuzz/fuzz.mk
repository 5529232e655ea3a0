# Fuzzing and sanitizers. The top-level Makefile includes this file.
#
#   make fuzz          every fuzz target for FUZZ_SECONDS seconds each (default 60)
#   make fuzz-smoke    every fuzz target for FUZZ_SMOKE_RUNS runs each (default 20000) from seed 1
#   make fuzz-corpus   rewrite the seed corpus in Fuzz/corpus/ from protocol/vectors/
#   make sanitize      the test suite under AddressSanitizer, then under ThreadSanitizer
#
# docs/fuzzing.md describes the targets, their invariants and recorded runs.

FUZZ_SECONDS ?= 60
FUZZ_SMOKE_RUNS ?= 20000

# -sanitize=fuzzer instruments every Swift module for coverage, the main package's included;
# -parse-as-library because each target's entry point is a plain function, not top-level code.
FUZZ_BUILD = $(SWIFT) build --package-path Fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-corpus sanitize sanitize-address sanitize-thread

fuzz-build:
	$(FUZZ_BUILD)

fuzz: fuzz-build
	Fuzz/run.sh $(FUZZ_SECONDS)

# The smoke run in `make test` makes a fixed number of runs from a fixed seed, so it finds the
# same inputs on every machine: a red CI is a real finding, never luck.
fuzz-smoke: fuzz-build
	FUZZ_RUNS=$(FUZZ_SMOKE_RUNS) Fuzz/run.sh 0

fuzz-corpus:
	python3 Fuzz/make-corpus.py

# Fuzz/sanitize.sh builds in .build/asan or .build/tsan, apart from the normal build, and fails
# on any sanitizer report, including reports from the CLIs that the end-to-end tests start (they
# find the sanitized binaries beside the test bundle).
sanitize: sanitize-address sanitize-thread

sanitize-address:
	Fuzz/sanitize.sh address

sanitize-thread:
	Fuzz/sanitize.sh thread
