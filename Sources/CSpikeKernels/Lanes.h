// What every kernel file of CSpikeKernels shares (private to the target): the x86 test, the
// always-inlined bodies that each variant wrapper compiles for its own instruction set, and
// eight floats loaded and stored unaligned.
#ifndef CSPIKEKERNELS_LANES_H
#define CSPIKEKERNELS_LANES_H

#if defined(__x86_64__) || defined(__i386__)
#define SF_X86 1
#endif

#define SF_INLINE static inline __attribute__((always_inline))

/// Eight floats, loaded and stored unaligned.
typedef float sf_lanes __attribute__((vector_size(32), aligned(4)));

/// Unaligned 8-lane access through a packed, may-alias type: macros rather than functions, so
/// no vector crosses a function boundary (whose ABI differs between the variants).
typedef struct __attribute__((packed, may_alias)) { sf_lanes v; } sf_unaligned_lanes;
#define LANES_AT(p) (((sf_unaligned_lanes *)(p))->v)

#endif
