#!/usr/bin/env bash
# Builds the fuzz harnesses of every parser (libFuzzer + AddressSanitizer) and runs each for a
# bounded time: FUZZ_SECONDS (default 60) per harness; FUZZ_TARGETS picks some ("HDF5Fuzz IDXFuzz"). Seeds are made at run time from the first bytes
# of the real samples in ../shared/data (never committed) plus tiny hand-made files; corpora and
# crash artifacts go under Fuzz/.build/ (git-ignored). Exit status ≠ 0 when a harness crashes.
#
#   Fuzz/run.sh                 # from the repository root (or anywhere)
#   FUZZ_SECONDS=300 Fuzz/run.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
seconds="${FUZZ_SECONDS:-60}"

swift build -c release -Xswiftc -sanitize=fuzzer,address --package-path "$here"
bin="$(swift build -c release -Xswiftc -sanitize=fuzzer,address --package-path "$here" --show-bin-path)"

# ../shared/data beside the repository root or one of its ancestors (worktrees sit deeper).
data=""
dir="$root"
while [ "$dir" != "/" ]; do
  dir="$(dirname "$dir")"
  if [ -d "$dir/shared/data" ]; then data="$dir/shared/data"; break; fi
done

work="$here/.build/fuzz"
mkdir -p "$work/aedat4" "$work/aedat4-stream" "$work/aedat31" "$work/aedat" "$work/wav" "$work/idx" "$work/hdf5" "$work/nmnist" "$work/shd" "$work/cache" "$work/safetensors" "$work/run" "$work/nir" "$work/artifacts"
mkdir -p "$work/prophesee-raw" "$work/prophesee-dat"
# Prophesee seeds: the committed fixtures (EVT 2.0, 2.1, 3.0 RAW; DAT).
cp "$root"/Tests/EventIOTests/Fixtures/prophesee/*.raw "$work/prophesee-raw/"
cp "$root"/Tests/EventIOTests/Fixtures/prophesee/*.dat "$work/prophesee-dat/"

# Hand-made seeds: a header-only AEDAT file, one with two events, a 4-sample 16-bit WAV.
printf '#!AER-DAT2.0\r\n' > "$work/aedat/seed-header-only"
printf '#!AER-DAT2.0\r\n# seed\r\n\x00\x00\x0a\x05\x00\x00\x00\x64\x00\x00\x7f\x00\x00\x00\x00\xfa' > "$work/aedat/seed-two-events"
printf 'RIFF\x2c\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x08\x00\x00\x00\x00\x80\xff\x7f\x00\x40\x00\xc0' > "$work/wav/seed-pcm16"
if [ -n "$data" ]; then
  for f in "$data"/mnist-dvs/*.aedat; do head -c 1024 "$f" > "$work/aedat/seed-$(basename "$f")"; done
  for f in "$data"/fsdd/0_george_0.wav "$data"/fsdd/7_theo_3.wav; do
    [ -f "$f" ] && head -c 1024 "$f" > "$work/wav/seed-$(basename "$f")"
  done
  for f in "$data"/mnist/*; do head -c 2048 "$f" > "$work/idx/seed-$(basename "$f")"; done
else
  echo "note: shared/data not found; fuzzing from hand-made seeds only" >&2
fi
# AEDAT 3.1: the committed fixtures (also a CIFAR10-DVS-shaped AEDAT 2.0 seed and a labels CSV).
cp "$root"/Tests/EventIOTests/Fixtures/aedat31/*.aedat "$work/aedat31/"
printf 'class,startTime_usec,endTime_usec\r\n1,80048239,85092709\r\n11,86000000,90000000\r\n' > "$work/aedat31/seed-labels.csv"
printf '#!AER-DAT2.0\r\n\x00\x00\x64\x07\x00\x00\x00\x0a' > "$work/aedat31/seed-cifar10"
# AEDAT 4.0: the dv-processing fixtures (uncompressed, LZ4, Zstd).
cp "$root"/Tests/EventIOTests/Fixtures/aedat4/*.aedat4 "$work/aedat4/"
# Network stream seeds: dv-processing's captured streams, behind a first byte that picks the split.
for f in "$root"/Tests/EventIOTests/Fixtures/aedat4/dv-network-stream*.bin; do
  { printf '\x05'; cat "$f"; } > "$work/aedat4-stream/seed-$(basename "$f")"
done
# IDX: a 2-image 2x2 file and 2 labels, plain. HDF5: the test fixtures, the three files that
# once crashed libhdf5 among them. safetensors: the test fixtures. Run files: a config.json.
printf '\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00\x02\x01\x02\x03\x04\x05\x06\x07\x08' > "$work/idx/seed-images"
printf '\x00\x00\x08\x01\x00\x00\x00\x02\x03\x07' > "$work/idx/seed-labels"
cp "$root"/Tests/EventIOTests/Fixtures/*.hdf5 "$work/hdf5/"
# N-MNIST: three 5-byte events in time order. SHD: the h5py-made fixtures, the damaged heaps among them.
printf '\x01\x02\x80\x00\x10\x21\x00\x00\x01\x00\x05\x05\x80\x7f\xff' > "$work/nmnist/seed-three-events"
cp "$root"/Tests/EventIOTests/Fixtures/shd*.h5 "$root"/Tests/EventIOTests/Fixtures/ssc*.h5 "$work/shd/"
cp "$root"/Tests/SpikeNNTests/Fixtures/*.safetensors "$work/safetensors/"
cp "$root"/Tests/MultimodalTests/Fixtures/golden_weights*.safetensors "$work/safetensors/"
printf '{"model": {"mode": "audio", "audio_hidden": 8}, "training": {"epochs": 1, "batchSize": 4, "learningRate": 0.001, "seed": 1, "keepCheckpoints": 3}, "data": {"source": "{\\"synthetic\\": {\\"_0\\": {}}}"}}' > "$work/run/seed-config"
# NIR: the harness edits a valid graph; seeds pick the A-Network (0) or the V-Network (1) unedited.
printf '\x00' > "$work/nir/seed-audio"; printf '\x01' > "$work/nir/seed-visual"

status=0
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"   # see -detect_leaks=0 below
targets="${FUZZ_TARGETS:-AEDATFuzz AEDAT31Fuzz AEDAT4Fuzz AEDAT4StreamFuzz WAVFuzz IDXFuzz HDF5Fuzz NMNISTFuzz SHDFuzz FrameCacheFuzz SafeTensorsFuzz RunFilesFuzz PropheseeRAWFuzz PropheseeDATFuzz NIRFuzz}"
corpus_of() { case "$1" in AEDATFuzz) echo aedat ;; AEDAT31Fuzz) echo aedat31 ;; AEDAT4Fuzz) echo aedat4 ;; AEDAT4StreamFuzz) echo aedat4-stream ;; WAVFuzz) echo wav ;; IDXFuzz) echo idx ;; HDF5Fuzz) echo hdf5 ;;
  NMNISTFuzz) echo nmnist ;; SHDFuzz) echo shd ;;
  FrameCacheFuzz) echo cache ;; SafeTensorsFuzz) echo safetensors ;; RunFilesFuzz) echo run ;;
  PropheseeRAWFuzz) echo prophesee-raw ;; PropheseeDATFuzz) echo prophesee-dat ;; NIRFuzz) echo nir ;; esac; }
for name in $targets; do
  harness="$name:$(corpus_of "$name")"
  name="${harness%%:*}"; corpus="$work/${harness##*:}"
  echo "== $name for ${seconds}s (corpus $corpus)"
  # -detect_leaks=0: Foundation's Data(contentsOf:) keeps one 4 KiB buffer (reported once by
  # LeakSanitizer in FrameCacheFuzz); leaks are not what these harnesses look for.
  "$bin/$name" "$corpus" -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 -detect_leaks=0 \
      -artifact_prefix="$work/artifacts/$name-" || status=$?
done
exit $status
