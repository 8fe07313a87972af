#!/usr/bin/env bash
# Builds spikefuse-bench in release and runs every configuration; writes bench/results.json.
#   bash bench/run.sh [--seconds S]      (S = measuring time per configuration, default 5)
# Same build flags as the Makefile (release + -enable-testing) so no rebuild is triggered.
set -euo pipefail
cd "$(dirname "$0")/.."
FLAGS=(-c release -Xswiftc -enable-testing)
swift build "${FLAGS[@]}" --product spikefuse-bench
"$(swift build "${FLAGS[@]}" --show-bin-path)/spikefuse-bench" --out bench/results.json "$@"
