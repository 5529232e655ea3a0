# Fuzzing and sanitizers. The top-level Makefile includes this file.
#
#   make fuzz          every fuzz target for FUZZ_SECONDS seconds each (default 60)
#   make fuzz-smoke    every fuzz target for FUZZ_SMOKE_SECONDS seconds each (default 10)
#   make fuzz-corpus   rewrite the seed corpus in Fuzz/corpus/ from protocol/vectors/
#   make sanitize      the test suite under AddressSanitizer, then under ThreadSanitizer
#
# docs/fuzzing.md describes the targets, their invariants and recorded runs.

FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10

# -sanitize=fuzzer instruments every Swift module for coverage, the main package's included;
# -parse-as-library because each target's entry point is a plain function, not top-level code.
FUZZ_BUILD = $(SWIFT) build --package-path Fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-corpus sanitize sanitize-address sanitize-thread

fuzz-build:
	$(FUZZ_BUILD)

fuzz: fuzz-build
	Fuzz/run.sh $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	Fuzz/run.sh $(FUZZ_SMOKE_SECONDS)

fuzz-corpus:
	python3 Fuzz/make-corpus.py

# Separate scratch paths keep the sanitized builds apart from the normal one. The end-to-end
# tests find the CLIs beside the test bundle, so they run the sanitized binaries of this build.
# SWIFT_BACKTRACE=enable=no: the Swift backtracer and the sanitizers both hook crashes.
sanitize: sanitize-address sanitize-thread

# LeakSanitizer runs with ASan; Fuzz/lsan-suppressions.txt lists the toolchain and test-harness
# leaks it ignores. The CLIs that the end-to-end tests start inherit the same settings.
sanitize-address:
	SWIFT_BACKTRACE=enable=no LSAN_OPTIONS=suppressions=$(CURDIR)/Fuzz/lsan-suppressions.txt \
		$(SWIFT) test --sanitize=address --scratch-path .build/asan

sanitize-thread:
	SWIFT_BACKTRACE=enable=no $(SWIFT) test --sanitize=thread --scratch-path .build/tsan
