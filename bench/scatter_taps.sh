#!/usr/bin/env bash
# Microbenchmark of the event-driven conv scatter's tap enumeration (EventConv2dKernel):
# stride-1 form against the plain any-stride form, on visual.conv2's shape. Compiles the
# kernel's enumeration code (the enum up to `synapticSums`) and Conv2dGeometry on their own
# with bench/scatter_taps_main.swift, so that nothing else of the package is involved.
# Usage (repository root): bash bench/scatter_taps.sh
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed -n '/^public struct Conv2dGeometry/,/^}/p' Sources/SpikeTensor/Conv2dGeometry.swift > "$dir/geometry.swift"
{ sed -n '/^public enum EventConv2dKernel/,/The synaptic sums of one image/p' Sources/SpikeTensor/EventConv2dKernel.swift | sed '$d'
  echo "}"; } > "$dir/taps.swift"
cp bench/scatter_taps_main.swift "$dir/main.swift"   # top-level code must be in main.swift
swiftc -O "$dir/geometry.swift" "$dir/taps.swift" "$dir/main.swift" -o "$dir/scatter_taps"
"$dir/scatter_taps"
