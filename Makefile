# SpikeFuse — the commands a user runs. Each target installs what is missing first.
#   make demo    build, synthesise the embedded default data, train, report
#   make test    run every test
#   make bench   speed and memory benchmarks (SpikeFuse, and the PyTorch peer when available)
#   make fuzz    bounded fuzzing of the AEDAT and WAV parsers

SHELL := /bin/bash
# One build configuration for everything (tests included), so `make test` and
# `make demo` share a build: optimised, with internal symbols visible to the tests.
SWIFT_FLAGS := -c release -Xswiftc -enable-testing
DEBIAN_PACKAGES := libopenblas-dev libhdf5-dev zlib1g-dev pkg-config
DEMO_OUT ?= runs/demo

.PHONY: deps build test demo bench fuzz clean

deps:
	@command -v swift >/dev/null || { echo "error: swift (6.3) is not on PATH; install the Swift toolchain from swift.org first" >&2; exit 1; }
	@if ! { command -v pkg-config >/dev/null && pkg-config --exists openblas hdf5 zlib; }; then \
	  echo "Installing Debian packages: $(DEBIAN_PACKAGES)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(DEBIAN_PACKAGES) >/dev/null; \
	fi

build: deps
	swift build $(SWIFT_FLAGS)

test: deps
	swift build $(SWIFT_FLAGS) --build-tests
	swift test $(SWIFT_FLAGS) --skip-build --disable-swift-testing

demo: build
	"$$(swift build $(SWIFT_FLAGS) --show-bin-path)/spikefuse" demo --out $(DEMO_OUT)

bench: build
	bash bench/run.sh

fuzz: deps
	bash Fuzz/run.sh

clean:
	rm -rf .build
