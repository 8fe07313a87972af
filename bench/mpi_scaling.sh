#!/usr/bin/env bash
# Data-parallel scaling on this machine: multimodal training (the demo's network and data,
# batch 32, 4 gradient shards) as one process with one thread, as `mpirun -np 2` with one
# thread per rank, and as one process with 2 threads (the default on 2 cores). Writes
# bench/results-mpi.json and bench/results-mpi.md: samples/s, scaling efficiency 1 → 2 ranks,
# the share of rank 0's training time spent in the gradient exchange (FixedOrderSum, including
# waiting for the slower rank), and the bytes each rank sends per step.
#
#   bash bench/mpi_scaling.sh [DEMOSET]     (make bench runs it; MPI_TRAIN_LIMIT=960 samples)
set -euo pipefail
cd "$(dirname "$0")/.."
FLAGS=(-c release -Xswiftc -enable-testing)
swift build "${FLAGS[@]}" --product spikefuse >/dev/null
SPIKEFUSE="$(swift build "${FLAGS[@]}" --show-bin-path)/spikefuse"
DEMOSET=${1:-${DEMOSET:-${XDG_CACHE_HOME:-$HOME/.cache}/spikefuse/default-set-v2-2000-seed1}}
if [ ! -f "$DEMOSET/manifest.json" ]; then "$SPIKEFUSE" synth --out "$DEMOSET" --pairs 2000 --seed 1; fi
if ! command -v mpirun >/dev/null; then echo "warning: mpirun not found (install openmpi-bin); skipping the MPI benchmark" >&2; exit 0; fi
LIMIT=${MPI_TRAIN_LIMIT:-960}
OUTDIR=runs/bench-mpi
rm -rf "$OUTDIR"; mkdir -p "$OUTDIR"
COMMON=(train --data "$DEMOSET" --epochs 1 --batch-size 32 --train-limit "$LIMIT" --test-limit 32 --seed 1)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
"$SPIKEFUSE" "${COMMON[@]}" --out "$OUTDIR/warm" >/dev/null        # frames the data into the cache once
echo "# mpi scaling: one process, 1 thread" >&2
SPIKEFUSE_THREADS=1 OPENBLAS_NUM_THREADS=1 "$SPIKEFUSE" "${COMMON[@]}" --out "$OUTDIR/one-1thread" >/dev/null
echo "# mpi scaling: mpirun -np 2, 1 thread per rank" >&2
SPIKEFUSE_THREADS=1 OPENBLAS_NUM_THREADS=1 mpirun --oversubscribe -np 2 -x SPIKEFUSE_THREADS -x OPENBLAS_NUM_THREADS \
  "$SPIKEFUSE" "${COMMON[@]}" --out "$OUTDIR/mpi-2" >/dev/null
echo "# mpi scaling: one process, 2 threads" >&2
SPIKEFUSE_THREADS=2 OPENBLAS_NUM_THREADS=2 "$SPIKEFUSE" "${COMMON[@]}" --out "$OUTDIR/one-2threads" >/dev/null
cmp -s "$OUTDIR/one-1thread/weights.safetensors" "$OUTDIR/mpi-2/weights.safetensors" && SAME=true || SAME=false

python3 - "$OUTDIR" "$SAME" "$(nproc)" <<'PY'
import json, struct, sys, math
out, same, cpus = sys.argv[1], sys.argv[2] == "true", int(sys.argv[3])
def metrics(run):
    return json.loads(open(f"{out}/{run}/metrics.jsonl").read().splitlines()[-1])
def parameters(run):
    with open(f"{out}/{run}/weights.safetensors", "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]; header = json.loads(f.read(n))
    return sum(math.prod(v["shape"]) for k, v in header.items() if k != "__metadata__")
one, two, threads = metrics("one-1thread"), metrics("mpi-2"), metrics("one-2threads")
P = parameters("one-1thread")
r = {
    "cpus": cpus,
    "one_process_1_thread_samples_per_second": one["samples_per_second"],
    "mpi_2_ranks_samples_per_second": two["samples_per_second"],
    "one_process_2_threads_samples_per_second": threads["samples_per_second"],
    "scaling_efficiency_1_to_2_ranks": two["samples_per_second"] / (2 * one["samples_per_second"]),
    "exchange_share_of_step_time": two["exchange_seconds"] / two["train_seconds"],
    "exchange_seconds": two["exchange_seconds"], "train_seconds": two["train_seconds"],
    "parameters": P, "bytes_sent_per_rank_per_step_2_ranks": 4 * P + 8 * 3,
    "weights_bit_identical_1_vs_2_ranks": same,
}
json.dump(r, open("bench/results-mpi.json", "w"), indent=2)
md = f"""| multimodal training, batch 32, 4 shards ({cpus} CPUs) | samples/s |
|---|---|
| one process, 1 thread | {r['one_process_1_thread_samples_per_second']:.1f} |
| `mpirun -np 2`, 1 thread per rank | {r['mpi_2_ranks_samples_per_second']:.1f} |
| one process, 2 threads | {r['one_process_2_threads_samples_per_second']:.1f} |

- scaling efficiency 1 → 2 ranks: **{100 * r['scaling_efficiency_1_to_2_ranks']:.0f} %**
- gradient exchange (incl. waiting for the slower rank): {100 * r['exchange_share_of_step_time']:.1f} % of rank 0's training time ({r['exchange_seconds']:.2f} of {r['train_seconds']:.1f} s)
- parameters {P:,}; each rank sends {r['bytes_sent_per_rank_per_step_2_ranks'] / 1e6:.2f} MB per step at 2 ranks (log₂N times that at N ranks)
- weights bit-identical, 1 process vs 2 ranks: {same}
"""
open("bench/results-mpi.md", "w").write(md)
print(md)
PY
