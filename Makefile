# The two set-up commands: `make demo` runs the main job, `make test` runs every test.
# Both install missing Debian packages first.

SWIFT ?= swift

.PHONY: demo test build deps test-deps clean

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh --test

build: deps
	$(SWIFT) build

demo: build
	@scripts/demo.sh

# The whole suite: unit tests per module and the end-to-end tests over real TCP (the end-to-end
# tests run the built binaries, so the build comes first), then a short run of every fuzz target
# and a short crash-durability check against a real relay killed with SIGKILL.
test: test-deps
	$(SWIFT) build
	$(SWIFT) test
	$(MAKE) fuzz-smoke
	$(MAKE) crash-check CRASH_CYCLES=3

clean:
	rm -rf .build

-include Benchmarks/bench.mk
-include Benchmarks/load.mk
-include Fuzz/fuzz.mk
