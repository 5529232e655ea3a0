# Benchmarks/load.mk: crash-durability check and soak run against a real relay process.
#
#   make crash-check                         5 SIGKILL cycles, under a minute
#   make crash-check CRASH_CYCLES=1000       the long run (about 10 minutes on 2 cores)
#   make soak                                60 s of steady load with per-interval figures
#   make soak DURATION=3600 SOAK_RATE=5000   the one-hour soak

CRASH_CYCLES ?= 5
DURATION ?= 60
SOAK_RATE ?= 2000
SOAK_CONNECTIONS ?= 200
SOAK_IDLE ?= 1000
SOAK_INTERVAL ?= 10

.PHONY: crash-check soak relay-release

relay-release:
	swift build -c release --product ratsbote-relay
	swift build -c release --product ratsbote-bench

crash-check:
	scripts/crash-durability.sh $(CRASH_CYCLES)

soak: relay-release
	swift run -c release --skip-build ratsbote-bench load --connections $(SOAK_CONNECTIONS) --rate $(SOAK_RATE) \
		--duration $(DURATION) --interval $(SOAK_INTERVAL) --idle $(SOAK_IDLE)
