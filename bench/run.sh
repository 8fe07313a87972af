#!/usr/bin/env bash
# Builds spikefuse-bench in release and runs every configuration; writes bench/results.json.
#   bash bench/run.sh [--seconds S]      (S = measuring time per configuration, default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product spikefuse-bench
"$(swift build -c release --show-bin-path)/spikefuse-bench" --out bench/results.json "$@"
