#!/bin/bash
# run-resume.sh NAME: trains the run directory runs/NAME from the config.json put there (a data
# source without audioTrimPercent = first-to-last-event bins, the framing before issue 43).
BIN=${BIN:-/work/wt/audio/.build/x86_64-unknown-linux-gnu/release/spikefuse}
cd /work/wt/audio-data
echo "$(date -u +%H:%M) SPIKEFUSE_THREADS=1 OPENBLAS_NUM_THREADS=1 spikefuse train --out runs/$1 --resume   # config.json: $(python3 -c "import json,sys;c=json.load(open('runs/$1/config.json'));print(c['data']['source'][:60], c['training'])")" >> logs/commands.txt
/usr/bin/time -f "%e s" env SPIKEFUSE_THREADS=1 OPENBLAS_NUM_THREADS=1 $BIN train --out runs/$1 --resume > logs/$1.log 2>&1
