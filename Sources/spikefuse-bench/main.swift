// spikefuse-bench — throughput and memory benchmarks (run by `make bench`).
print("spikefuse-bench: no benchmarks yet")
