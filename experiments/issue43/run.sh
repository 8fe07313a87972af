#!/bin/bash
# run.sh NAME DATA [train options…]: one A-Network training run, one thread, logged.
BIN=${BIN:-/work/wt/audio/.build/x86_64-unknown-linux-gnu/release/spikefuse}
name=$1; data=$2; shift 2
cd /work/wt/audio-data
echo "$(date -u +%H:%M) SPIKEFUSE_THREADS=1 OPENBLAS_NUM_THREADS=1 spikefuse train --mode audio --data $data --cache cache --out runs/$name $*" >> logs/commands.txt
/usr/bin/time -f "%e s" env SPIKEFUSE_THREADS=1 OPENBLAS_NUM_THREADS=1 $BIN train --mode audio --data $data --cache cache --out runs/$name "$@" > logs/$name.log 2>&1
