#!/usr/bin/env bash
# Table 1 and Fig. 3 of the paper on one set, with the current defaults: the four modes ×
# SEEDS seeds, each (mode, seed) its own process with one thread (bit-reproducible per seed),
# JOBS at a time, the longest modes first so that both cores stay busy to the end; then one
# `spikefuse experiment` over all of them (finished runs are loaded, not retrained) writes
# OUT/table1.md, table1.csv, fig3.csv and fig3.svg.
# Usage (from the repository root, after `make build`):
#   experiments/table1.sh [data options of `spikefuse experiment`, e.g. --data DIR --test-limit 2000]
# Without data options it uses the embedded procedural set of `make demo`.
# Settings (environment): OUT (runs/table1), SEEDS (5), JOBS (2), EPOCHS (12),
#   MODES ("multimodal multimodal-noattention visual audio").
set -euo pipefail
export BIN=${BIN:-$(swift build -c release -Xswiftc -enable-testing --show-bin-path)/spikefuse}
export OUT=${OUT:-runs/table1} EPOCHS=${EPOCHS:-12}
SEEDS=${SEEDS:-5}; JOBS=${JOBS:-2}
MODES=${MODES:-multimodal multimodal-noattention visual audio}
mkdir -p "$OUT"

# one MODE SEED DATA-OPTIONS…: train one run into OUT/MODE/seed-SEED, its log beside the table.
one() {
    local mode=$1 seed=$2; shift 2
    SPIKEFUSE_THREADS=1 OPENBLAS_NUM_THREADS=1 "$BIN" experiment --out "$OUT" --modes "$mode" \
        --repeats 1 --first-seed "$seed" --epochs "$EPOCHS" "$@" > "$OUT/train-$mode-seed$seed.log" 2>&1 \
        || { echo "$mode seed $seed failed: see $OUT/train-$mode-seed$seed.log" >&2; return 255; }
}
export -f one
for mode in $MODES; do for seed in $(seq 1 "$SEEDS"); do echo "$mode $seed"; done; done |
    xargs -P "$JOBS" -I{} bash -c 'one {} "$@"' _ "$@"
"$BIN" experiment --out "$OUT" --modes "$(echo $MODES | tr ' ' ,)" --repeats "$SEEDS" \
    --epochs "$EPOCHS" "$@" | tee "$OUT/report.txt"
