#!/usr/bin/env bash
# Side-by-side benchmark: SpikeFuse and the project's PyTorch peer on the same weights and
# inputs, interleaved configuration by configuration, each in its own process (so ru_maxrss
# is that configuration's peak). Writes bench/results.json, bench/results.md and
# bench/results-profile.txt (per-layer profile of multimodal training, then SGEMM GFLOP/s).
#
#   bash bench/run.sh [--seconds S] [--weights W [--inputs DATA]] [--stand-in] [--quick]
#     --seconds S   measuring time per configuration (default 4; at least 2 batches)
#     --weights W   trained multimodal weights at paper sizes (28×28, 64 channels), measured on
#                   the test inputs of the joint set DATA (--inputs) or a synthetic batch.
#                   Default: the demo's network trained on the demo's data at the paper's 28×28
#                   crop (runs/bench-weights/, trained once: `spikefuse train --data DEMOSET
#                   --crop 28 --epochs 6 --seed 1`, ~5 min; `make demo` itself crops 32×32),
#                   measured on that set's test inputs. DEMOSET (default the demo's cached set)
#                   is synthesised first if missing.
#     --stand-in    instead, a short stand-in training run on a paper-sized synthetic task
#     --quick       only the trained activity level (skip the 2/5/10/20 % scaled networks)
#   FORMULATIONS="fused timebatched fused:channels-last timebatched:channels-last loop" (PyTorch
#   formulations, NAME:channels-last with channels-last convolutions; the best counts), THREADS=2,
#   MODELS="multimodal visual audio", NETWORKS="bench/networks/gesture-lif.json bench/networks/shd-alif.json" (described networks;
#   empty: none), NETWORK_DENSITY=0.1, NEURONS=1 (0: skip the neuron-model rows; else $OUT-neurons.json
#   and $OUT-neurons.md), NEURON_FORMULATIONS="fused loop compiled" (the neuron-model peer's; the best
#   counts; compiled: torch.compile, minutes of compiling per row on first use), OUT=bench/results
#   (writes $OUT.json, $OUT.md, $OUT-profile.txt).
#   JAX=PYTHON: also the JAX/XLA peer (bench/jax_peer.py) on the multimodal and NETWORKS rows (empty: skip).
#   SWEEP_TRAIN_FORMULATIONS="timebatched": for training in the 2–20 % sweep only (PyTorch's
#   loop formulation trains the multimodal model ~3x slower and takes ~15 s per batch).
#
# The shared inputs (weights + one batch, safetensors) are written once to runs/bench-data/
# by `spikefuse-bench --prepare`; delete that folder to regenerate them.
# Python/PyTorch are used only here, never by the build or the tests: the system python3 if
# it imports torch, else a virtual environment bench/.venv created on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=4
WEIGHTS=""
INPUTS=""
STAND_IN=0
QUICK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER_RUN="$2"; shift 2 ;;
    --weights) WEIGHTS="$2"; shift 2 ;;
    --inputs) INPUTS="$2"; shift 2 ;;
    --stand-in) STAND_IN=1; shift ;;
    --quick) QUICK=1; shift ;;
    *) echo "usage: bash bench/run.sh [--seconds S] [--weights W [--inputs DATA]] [--stand-in] [--quick]" >&2; exit 2 ;;
  esac
done
FORMULATIONS=${FORMULATIONS:-"fused timebatched fused:channels-last timebatched:channels-last loop"}
NETWORKS=${NETWORKS-"bench/networks/gesture-lif.json bench/networks/shd-alif.json"}
THREADS=${THREADS:-2}
NEURON_FORMULATIONS=${NEURON_FORMULATIONS:-"fused loop compiled"}
DATA=runs/bench-data

# Same build flags as the Makefile (release + -enable-testing), so no rebuild is triggered.
FLAGS=(-c release -Xswiftc -enable-testing)
swift build "${FLAGS[@]}" --product spikefuse-bench
swift build "${FLAGS[@]}" --product spikefuse
BIN="$(swift build "${FLAGS[@]}" --show-bin-path)/spikefuse-bench"
SPIKEFUSE="$(swift build "${FLAGS[@]}" --show-bin-path)/spikefuse"

# Realistic activity: the demo's network and data at the paper's input size, trained once.
if [ -z "$WEIGHTS" ] && [ "$STAND_IN" = 0 ]; then
  DEMOSET=${DEMOSET:-${XDG_CACHE_HOME:-$HOME/.cache}/spikefuse/default-set-v2-2000-seed1}
  if [ ! -f "$DEMOSET/manifest.json" ]; then "$SPIKEFUSE" synth --out "$DEMOSET" --pairs 2000 --seed 1; fi
  if [ ! -f runs/bench-weights/weights.safetensors ]; then
    echo "training the bench network on the demo data at 28×28 (once, ~5 min): runs/bench-weights" >&2
    RESUME=(); if [ -d runs/bench-weights/checkpoints ]; then RESUME=(--resume); fi
    "$SPIKEFUSE" train --data "$DEMOSET" --crop 28 --epochs 6 --seed 1 --out runs/bench-weights "${RESUME[@]}"
  fi
  WEIGHTS=runs/bench-weights/weights.safetensors
  INPUTS=$DEMOSET
fi

# PyTorch: system python3 if it has torch, else bench/.venv (created only when needed).
PYTHON=""
if python3 -c "import torch, safetensors" 2>/dev/null; then
  PYTHON=python3
else
  if [ ! -x bench/.venv/bin/python ]; then
    echo "torch is not importable; creating bench/.venv" >&2
    python3 -m venv --system-site-packages bench/.venv || true
  fi
  if [ -x bench/.venv/bin/python ] && ! bench/.venv/bin/python -c "import torch, safetensors" 2>/dev/null; then
    if [ -d /opt/wheels ]; then
      bench/.venv/bin/python -m pip install --quiet --find-links /opt/wheels torch safetensors || true
    else
      bench/.venv/bin/python -m pip install --quiet torch safetensors || true
    fi
  fi
  if [ -x bench/.venv/bin/python ] && bench/.venv/bin/python -c "import torch, safetensors" 2>/dev/null; then
    PYTHON=bench/.venv/bin/python
  else
    echo "warning: no PyTorch available; measuring SpikeFuse only" >&2
  fi
fi

PREPARE=("$BIN" --prepare --data-dir "$DATA")
if [ -n "$WEIGHTS" ]; then PREPARE+=(--weights "$WEIGHTS"); fi
if [ -n "$INPUTS" ]; then PREPARE+=(--inputs "$INPUTS"); fi
"${PREPARE[@]}"

OUT=${OUT:-bench/results}   # → $OUT.json, $OUT.md, and bench/raw.jsonl (every line)
RAW=bench/raw.jsonl
: > "$RAW"
# glibc malloc told to keep freed blocks (as the issue's peer measurement): no mmap/munmap
# churn for large tensors. SpikeFuse does the same itself (AllocatorTuning).
export MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 OPENBLAS_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS \
  SPIKEFUSE_THREADS=$THREADS
echo "# $(date -u +%FT%TZ) $(nproc --all) CPUs, $THREADS threads, load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

run_pair() {   # activity model task batch [pytorch formulations]
  local file="$DATA/$1.safetensors" model=$2 task=$3 batch=$4 formulations=${5:-$FORMULATIONS}
  "$BIN" --side-by-side "$model" "$task" "$batch" --data "$file" --seconds "$SECONDS_PER_RUN" >> "$RAW"
  if [ "$task" = infer ]; then
    "$BIN" --side-by-side "$model" stream "$batch" --data "$file" --seconds "$SECONDS_PER_RUN" >> "$RAW"
  fi
  if [ -n "$PYTHON" ]; then
    for formulation in $formulations; do
      # NAME:channels-last = formulation NAME with the convolutions in channels-last memory format
      local extra=()
      case "$formulation" in *:channels-last) extra=(--channels-last); formulation=${formulation%:channels-last} ;; esac
      "$PYTHON" bench/peer_bench.py --data "$file" --model "$model" --task "$task" --batch "$batch" \
        --formulation "$formulation" --seconds "$SECONDS_PER_RUN" --threads "$THREADS" "${extra[@]}" >> "$RAW"
    done
  fi
  tail -n 1 "$RAW" >&2
}

for model in ${MODELS:-multimodal visual audio}; do
  run_pair trained "$model" train 32
  run_pair trained "$model" infer 32
  run_pair trained "$model" infer 1
done
# JAX/XLA peer of the multimodal network (bench/jax_peer.py, checked by its --check): JAX=PYTHON
# with jax and safetensors installed (e.g. a venv: pip install jax numpy safetensors); empty: skip.
# Also each described network of NETWORKS (its shared file written first if missing, as below).
if [ -n "${JAX:-}" ]; then
  for net in multimodal $NETWORKS; do
    file=$DATA/trained.safetensors model=multimodal
    if [ "$net" != multimodal ]; then
      file=$DATA/network-$(basename "$net" .json).safetensors model=network:$net
      [ -f "$file" ] || "$BIN" --prepare-network "$net" --out "$file" --density "${NETWORK_DENSITY:-0.1}"
    fi
    for config in train:32 infer:32 infer:1; do
      # the JAX peer refuses what it does not build (neuron models other than the LIF): skip those
      if "$JAX" bench/jax_peer.py --data "$file" --model "$model" --task "${config%:*}" \
        --batch "${config#*:}" --seconds "$SECONDS_PER_RUN" --threads "$THREADS" >> "$RAW"; then
        tail -n 1 "$RAW" >&2
      else
        echo "jax peer: $net not supported, skipped" >&2
        break
      fi
    done
  done
fi
# Described networks (docs/speed.md, "Described networks"): seed-1 weights and random input
# spikes at NETWORK_DENSITY, the PyTorch peer built from the same JSON (pytorch_network.py).
# Delete $DATA/network-*.safetensors after editing a network file.
for net in $NETWORKS; do
  name=network-$(basename "$net" .json)
  if [ ! -f "$DATA/$name.safetensors" ]; then
    "$BIN" --prepare-network "$net" --out "$DATA/$name.safetensors" --density "${NETWORK_DENSITY:-0.1}"
  fi
  run_pair "$name" "network:$net" train 32 "fused timebatched fused:channels-last"
  run_pair "$name" "network:$net" infer 32 "fused timebatched fused:channels-last"
  run_pair "$name" "network:$net" infer 1 "fused timebatched"
done
# Neuron models (docs/speed.md, "Neuron models"): training samples/s of each model on the
# paper's auditory shape and of the PyTorch peer of each, in one run (bench/results-neurons.json).
# The peer of each row runs every formulation in NEURON_FORMULATIONS (bench/peer_bench.py
# --neuron-json: fused, loop, compiled), each in its own process, and reports the fastest;
# $OUT-neurons.md names the winner per row.
if [ "${NEURONS:-1}" = 1 ]; then
  PEER=(); if [ -n "$PYTHON" ]; then PEER=(--peer "$PYTHON"); fi
  NEURON_FORMULATIONS="$NEURON_FORMULATIONS" \
    "$BIN" --neurons --seconds "$SECONDS_PER_RUN" --out "$OUT-neurons.json" "${PEER[@]}" >&2
  python3 bench/neuron_table.py "$OUT-neurons.json" "$OUT-neurons.md" >&2
fi
if [ "$QUICK" = 0 ]; then
  for activity in rate02 rate05 rate10 rate20; do
    run_pair "$activity" multimodal train 32 "${SWEEP_TRAIN_FORMULATIONS:-timebatched}"
    run_pair "$activity" multimodal infer 32
    run_pair "$activity" multimodal infer 1
  done
fi

if [ "$QUICK" = 0 ]; then
  # Peak training memory vs T (batch 32, trained activity; inputs repeated/cut to T steps).
  for steps in 16 32 128; do
    "$BIN" --side-by-side multimodal train 32 --data "$DATA/trained.safetensors" --timesteps "$steps" --seconds 1 >> "$RAW"
    if [ -n "$PYTHON" ]; then
      "$PYTHON" bench/peer_bench.py --data "$DATA/trained.safetensors" --model multimodal --task train --batch 32 \
        --formulation timebatched --timesteps "$steps" --seconds 1 --threads "$THREADS" >> "$RAW"
    fi
    tail -n 1 "$RAW" >&2
  done
fi

"$BIN" --profile-mm "$DATA/trained.safetensors" --batch 32 | tee "$OUT-profile.txt"
# The machine's dense peak as OpenBLAS reaches it, and training's thin products (docs/speed.md).
{ echo; OPENBLAS_NUM_THREADS="$THREADS" "$BIN" --gemm-peak --seconds 2; } | tee -a "$OUT-profile.txt"
# Event-file readers' decoding speed in events/s, every format (docs/event-formats.md).
{ echo; "$BIN" --readers --seconds 2; } | tee -a "$OUT-profile.txt"
python3 bench/summarise.py "$RAW" "$OUT.json" "$OUT.md"
# Data-parallel scaling over MPI, 1 → 2 ranks (docs/distributed.md).
bash bench/mpi_scaling.sh "${DEMOSET:-}"
