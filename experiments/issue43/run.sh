#!/bin/bash
# run.sh NAME DATA [train options…]: one A-Network training run, one thread, logged.
BIN=${BIN:-spikefuse}   # the built tool; run from the folder holding DATA, runs/ and logs/
name=$1; data=$2; shift 2
mkdir -p runs logs
echo "$(date -u +%H:%M) SPIKEFUSE_THREADS=1 OPENBLAS_NUM_THREADS=1 spikefuse train --mode audio --data $data --cache cache --out runs/$name $*" >> logs/commands.txt
/usr/bin/time -f "%e s" env SPIKEFUSE_THREADS=1 OPENBLAS_NUM_THREADS=1 $BIN train --mode audio --data $data --cache cache --out runs/$name "$@" > logs/$name.log 2>&1
