#!/usr/bin/env bash
# Same-session A/B of the PyTorch peer's eager `fused` formulation against `compiled` (the
# fused formulation under torch.compile, bench/peer_bench.py), alternating per row, one JSON
# line per run in $OUT (tagged with the round). The ratio within a pair is what counts; the
# absolute numbers move with the machine's load (its load average is in every line).
#
#   PYTHON=python3 PAPER_DATA=runs/bench-ab/trained.safetensors \
#   GESTURE_DATA=runs/bench-data/network-gesture-lif.safetensors \
#   SHD_DATA=runs/bench-data/network-shd-alif.safetensors ROUNDS=2 SECONDS_PER_RUN=8 \
#   OUT=bench/results-compile-ab.jsonl bash bench/compile_ab.sh
#
# Rows: multimodal train 32, gesture-lif train 32, shd-alif train 32, gesture-lif infer 32.
# `compiled` compiles in its two warm-up batches (warmup_seconds in its line; inductor's
# on-disk cache makes later compiles of the same graph shorter).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${PYTHON:?set PYTHON}" "${PAPER_DATA:?}" "${GESTURE_DATA:?}" "${SHD_DATA:?}"
ROUNDS=${ROUNDS:-2}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-8}
OUT=${OUT:-bench/results-compile-ab.jsonl}
export MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 OMP_NUM_THREADS=2
row() {   # MODEL TASK DATA ROUND
  for f in fused compiled; do
    "$PYTHON" bench/peer_bench.py --data "$3" --model "$1" --task "$2" --batch 32 --formulation "$f" \
      --seconds "$SECONDS_PER_RUN" --threads 2 | sed "s/^{/{\"round\":$4,/" >> "$OUT"
  done
}
for round in $(seq 1 "$ROUNDS"); do
  row multimodal train "$PAPER_DATA" "$round"
  row network:bench/networks/gesture-lif.json train "$GESTURE_DATA" "$round"
  row network:bench/networks/shd-alif.json train "$SHD_DATA" "$round"
  row network:bench/networks/gesture-lif.json infer "$GESTURE_DATA" "$round"
done
