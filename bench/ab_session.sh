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
# Rows: multimodal train 32 (8 s) and stream 1 (5 s), the network's training (8 s), each for
# BEFORE, AFTER (and PRE=/path/to/older/spikefuse-bench on the multimodal rows, when set: a
# binary too old for described networks) and every PyTorch formulation that has been fastest on it (FORMULATIONS of
# bench/run.sh: NAME or NAME:channels-last); the best counts. The load average is in every
# line. The environment is run.sh's: glibc malloc keeps freed blocks (PyTorch loses up to
# half its speed to mmap/munmap churn without it), 2 threads everywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BEFORE:?set BEFORE}" "${AFTER:?set AFTER}" "${PYTHON:?set PYTHON}" "${PAPER_DATA:?}" "${NETWORK:?}" "${NETWORK_DATA:?}"
ROUNDS=${ROUNDS:-2}
OUT=${OUT:-bench/results-ab.jsonl}
export MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 SPIKEFUSE_THREADS=2
tag() { sed "s/^{/{\"binary\":\"$1\",\"round\":$2,/"; }
# row: MODEL TASK BATCH SECONDS DATA "FORMULATIONS"
row() {
  local model=$1 task=$2 batch=$3 seconds=$4 data=$5 formulations=$6 round=$7
  local bins="BEFORE AFTER"
  # PRE: an older binary (e.g. the code before networks as data) on the paper's rows only
  if [ -n "${PRE:-}" ] && [ "$model" = multimodal ]; then bins="PRE BEFORE AFTER"; fi
  for bin in $bins; do
    "${!bin}" --side-by-side "$model" "$task" "$batch" --data "$data" --seconds "$seconds" | tag "$bin" "$round" >> "$OUT"
  done
  local peerTask=$task; [ "$task" = stream ] && peerTask=infer
  for f in $formulations; do
    local extra=(); case "$f" in *:channels-last) extra=(--channels-last); f=${f%:channels-last} ;; esac
    "$PYTHON" bench/peer_bench.py --data "$data" --model "$model" --task "$peerTask" --batch "$batch" \
      --formulation "$f" --seconds "$seconds" --threads 2 "${extra[@]}" | tag pytorch "$round" >> "$OUT"
  done
}
for round in $(seq 1 "$ROUNDS"); do
  row multimodal train 32 8 "$PAPER_DATA" "timebatched:channels-last fused" "$round"
  row multimodal stream 1 5 "$PAPER_DATA" "fused:channels-last fused" "$round"
  row "network:$NETWORK" train 32 8 "$NETWORK_DATA" "fused:channels-last timebatched:channels-last fused" "$round"
done
