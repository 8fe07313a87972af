#!/usr/bin/env bash
# Same-run A/B of two spikefuse-bench binaries against the PyTorch peer, alternating, on the
# paper's multimodal network (stand-in data of `spikefuse-bench --prepare`) and on a described
# network (data of `--prepare-network`). One JSON line per run in $OUT.
#
#   BEFORE=/path/to/old/spikefuse-bench AFTER=/path/to/new/spikefuse-bench PYTHON=python3 \
#   PAPER_DATA=runs/bench-ab/trained.safetensors NETWORK=bench/networks/gesture-lif.json \
#   NETWORK_DATA=runs/bench-data/network-gesture-lif.safetensors ROUNDS=2 OUT=bench/results-ab.jsonl \
#   bash bench/ab_session.sh
#
# Rows: multimodal train 32 (8 s) and stream 1 (5 s) for BEFORE, AFTER and the PyTorch
# formulations that were best on these rows (time-batched channels-last for training, fused
# channels-last for batch 1); the network's training (8 s) for AFTER and PyTorch's fused
# channels-last, the fastest formulation on it. The load average is in every line.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BEFORE:?set BEFORE}" "${AFTER:?set AFTER}" "${PYTHON:?set PYTHON}" "${PAPER_DATA:?}" "${NETWORK:?}" "${NETWORK_DATA:?}"
ROUNDS=${ROUNDS:-2}
OUT=${OUT:-bench/results-ab.jsonl}
tag() { sed "s/^{/{\"binary\":\"$1\",\"round\":$2,/"; }
for round in $(seq 1 "$ROUNDS"); do
  for bin in BEFORE AFTER; do
    "${!bin}" --side-by-side multimodal train 32 --data "$PAPER_DATA" --seconds 8 | tag "$bin" "$round" >> "$OUT"
  done
  "$PYTHON" bench/peer_bench.py --data "$PAPER_DATA" --model multimodal --task train --batch 32 \
    --formulation timebatched --channels-last --seconds 8 --threads 2 | tag pytorch "$round" >> "$OUT"
  for bin in BEFORE AFTER; do
    "${!bin}" --side-by-side multimodal stream 1 --data "$PAPER_DATA" --seconds 5 | tag "$bin" "$round" >> "$OUT"
  done
  "$PYTHON" bench/peer_bench.py --data "$PAPER_DATA" --model multimodal --task infer --batch 1 \
    --formulation fused --channels-last --seconds 5 --threads 2 | tag pytorch "$round" >> "$OUT"
  for bin in BEFORE AFTER; do
    "${!bin}" --side-by-side "network:$NETWORK" train 32 --data "$NETWORK_DATA" --seconds 8 | tag "$bin" "$round" >> "$OUT"
  done
  "$PYTHON" bench/peer_bench.py --data "$NETWORK_DATA" --model "network:$NETWORK" --task train --batch 32 \
    --formulation fused --channels-last --seconds 8 --threads 2 | tag pytorch "$round" >> "$OUT"
done
