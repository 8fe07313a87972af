# SpikeFuse — the commands a user runs. Each target installs what is missing first.
#   make demo    build, synthesise the embedded default data, train, report
#   make test    run every test
#   make bench   speed and memory benchmarks (SpikeFuse, and the PyTorch peer when available)
#   make fuzz    bounded fuzzing of every parser (60 s each; FUZZ_SECONDS, FUZZ_TARGETS)
#   make reproduce MNIST_DVS=DIR NTIDIGITS=FILE   the paper's protocol on the real datasets
#   make reproduce-standin MNIST_IDX=A,B FSDD=DIR  docs/results.md's stand-in protocol

SHELL := /bin/bash
# One build configuration for everything (tests included), so `make test` and
# `make demo` share a build: optimised, with internal symbols visible to the tests.
SWIFT_FLAGS := -c release -Xswiftc -enable-testing
DEBIAN_PACKAGES := libopenblas-dev libhdf5-dev zlib1g-dev liblz4-dev libzstd-dev libopenmpi-dev openmpi-bin pkg-config
DEMO_OUT ?= runs/demo

.PHONY: deps build test demo bench fuzz reproduce reproduce-standin clean

deps:
	@command -v swift >/dev/null || { echo "error: swift (6.3) is not on PATH; install the Swift toolchain from swift.org first" >&2; exit 1; }
	@if ! { command -v pkg-config >/dev/null && pkg-config --exists openblas hdf5 zlib liblz4 libzstd ompi-c && command -v mpirun >/dev/null; }; then \
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

# The paper's protocol (4 modes × 5 seeds, Table 1, Fig. 3) on the real MNIST-DVS and
# N-TIDIGITS sets. EPOCHS (20), REPRODUCE_OUT (runs/reproduce) and REPRODUCE_OPTIONS (more
# `spikefuse experiment` options, e.g. --lr-schedule constant) can be set.
REPRODUCE_OUT ?= runs/reproduce
EPOCHS ?= 20
reproduce: build
	@if [ -z "$(MNIST_DVS)" ] || [ -z "$(NTIDIGITS)" ]; then \
	  echo "usage: make reproduce MNIST_DVS=/path/to/MNIST-DVS (the folder with grabbed_data0…9) NTIDIGITS=/path/to/n-tidigits.hdf5 [EPOCHS=20]" >&2; exit 2; fi
	"$$(swift build $(SWIFT_FLAGS) --show-bin-path)/spikefuse" experiment --visual "$(MNIST_DVS)" --audio "$(NTIDIGITS)" \
	  --out $(REPRODUCE_OUT) --repeats 5 --epochs $(EPOCHS) $(REPRODUCE_OPTIONS)

# docs/results.md from scratch: the real-digit stand-in (MNIST IDX + FSDD WAVs) and the
# procedural set, with faults. See experiments/standin.sh for its settings.
reproduce-standin: build
	@if [ -z "$(MNIST_IDX)" ] || [ -z "$(FSDD)" ]; then \
	  echo "usage: make reproduce-standin MNIST_IDX=images-a.gz,images-b.gz FSDD=/path/to/fsdd/recordings" >&2; exit 2; fi
	MNIST_IDX="$(MNIST_IDX)" FSDD="$(FSDD)" bash experiments/standin.sh

fuzz: deps
	bash Fuzz/run.sh

clean:
	rm -rf .build
