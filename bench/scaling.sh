#!/usr/bin/env bash
# How training cost grows with T and with the batch (issue "Fast against every peer", item 4):
# SpikeFuse and its PyTorch peer on the paper's multimodal network and on the SHD-class
# recurrent network (bench/networks/shd-alif.json), training, in run.sh's environment; each
# configuration in its own process, one JSON line each (time per sample = 1 / samples_per_second,
# peak_rss_mb the process's peak). Inputs are the prepared files' recordings repeated or cut to
# T steps. Then bench/plot_scaling.py draws docs/img/scaling-*.svg.
#
#   PYTHON=python3 OUT=bench/results-scaling.jsonl bash bench/scaling.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${PYTHON:?set PYTHON (with torch)}"
OUT=${OUT:-bench/results-scaling.jsonl}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-2}
BIN=${BIN:-$(swift build -c release -Xswiftc -enable-testing --show-bin-path)/spikefuse-bench}
export MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 SPIKEFUSE_THREADS=2
PAPER=${PAPER:-runs/bench-data/trained.safetensors} SHD=${SHD:-runs/bench-data/network-shd-alif.safetensors}
SHD128=${SHD128:-runs/bench-data/network-shd-alif-b128.safetensors}   # 128 samples, calibrated the same way
[ -f "$PAPER" ] || "$BIN" --prepare --data-dir runs/bench-data
[ -f "$SHD" ] || "$BIN" --prepare-network bench/networks/shd-alif.json --out "$SHD"
[ -f "$SHD128" ] || "$BIN" --prepare-network bench/networks/shd-alif.json --out "$SHD128" --batch 128
: > "$OUT"
# one: MODEL DATA PEER_FORMULATION_ARGS T BATCH
one() {
  "$BIN" --side-by-side "$1" train "$5" --data "$2" --timesteps "$4" --seconds "$SECONDS_PER_RUN" >> "$OUT"
  # shellcheck disable=SC2086
  "$PYTHON" bench/peer_bench.py --data "$2" --model "$1" --task train --batch "$5" $3 --timesteps "$4" \
    --seconds "$SECONDS_PER_RUN" --threads 2 >> "$OUT"
}
for steps in 16 32 64 128 256; do
  one multimodal "$PAPER" "--formulation timebatched --channels-last" "$steps" 32
  one network:bench/networks/shd-alif.json "$SHD" "--formulation fused" "$steps" 32
done
for batch in 1 8; do      # batch 32 is the T = 64 (paper) and T = 100 rows' own
  one multimodal "$PAPER" "--formulation timebatched --channels-last" 64 "$batch"
  one network:bench/networks/shd-alif.json "$SHD" "--formulation fused" 100 "$batch"
done
one network:bench/networks/shd-alif.json "$SHD" "--formulation fused" 100 32
# batch 128: the SHD-class network only (the paper's prepared file holds 32 samples)
one network:bench/networks/shd-alif.json "$SHD128" "--formulation fused" 100 128
