#!/usr/bin/env bash
# Runs the PyTorch peer benchmarks (bench/pytorch_reference.py) and prints one JSON line each.
#
#   bash bench/peer.sh                     # every model x task x formulation, 10 s each
#   SECONDS_PER_RUN=3 MODELS=visual TASKS=train FORMULATIONS=timebatched bash bench/peer.sh
#   OUT=runs/peer.jsonl bash bench/peer.sh # also append the lines to a file
#
# Uses the system python3 when it can import torch; otherwise creates bench/.venv
# (python3 -m venv --system-site-packages) and installs torch from /opt/wheels when
# present, else from the package index. Python is never needed to build or test SpikeFuse.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=python3
if ! python3 -c "import torch" 2>/dev/null; then
  if [ ! -x bench/.venv/bin/python ]; then
    echo "torch is not importable; creating bench/.venv" >&2
    python3 -m venv --system-site-packages bench/.venv
  fi
  PYTHON=bench/.venv/bin/python
  if ! "$PYTHON" -c "import torch" 2>/dev/null; then
    if [ -d /opt/wheels ]; then
      "$PYTHON" -m pip install --quiet --find-links /opt/wheels torch
    else
      "$PYTHON" -m pip install --quiet torch
    fi
  fi
fi

MODELS=${MODELS:-"visual audio multimodal"}
TASKS=${TASKS:-"train infer"}
FORMULATIONS=${FORMULATIONS:-"timebatched loop"}
BATCH=${BATCH:-32}
TIMESTEPS=${TIMESTEPS:-64}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
THREADS=${THREADS:-2}

echo "# $(date -u +%FT%TZ) $(uname -m), $(nproc) CPUs, load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for model in $MODELS; do
  for task in $TASKS; do
    for formulation in $FORMULATIONS; do
      line=$("$PYTHON" bench/pytorch_reference.py bench --model "$model" --task "$task" \
        --batch "$BATCH" --timesteps "$TIMESTEPS" --seconds "$SECONDS_PER_RUN" \
        --formulation "$formulation" --threads "$THREADS")
      echo "$line"
      if [ -n "${OUT:-}" ]; then mkdir -p "$(dirname "$OUT")"; echo "$line" >> "$OUT"; fi
    done
  done
done
