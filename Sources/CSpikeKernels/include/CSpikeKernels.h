// Vector kernels. The event-driven (sparse spike input) scatters, data movement, LIF steps and
// neuron-model steps (NeuronSteps.c) are compiled twice: once for the x86-64 baseline (SSE2,
// or whatever the target's baseline is elsewhere) and once with AVX2 on x86-64, chosen at run
// time by `sf_cpu_has_avx2`. Both variants perform the same float operations in the same order
// as the Swift reference (`SpikeMatmul.addScaled`, `EventConv2dKernel.forEachActiveTapAnyStride`,
// `LIFKernel`, `NeuronKernels`): no FMA contraction, so the bits are equal. The dense kernels
// (`sf_direct_conv_stride1`, `sf_row_product`) come in a baseline, an AVX2 + FMA and an AVX-512
// variant (`sf_direct_conv_level`) and may use FMA: equal to their references to rounding.
#ifndef CSPIKEKERNELS_H
#define CSPIKEKERNELS_H

#include <stdint.h>

/// Shapes of a convolution (NCHW, square kernel k, zero padding p, stride s; the direct
/// convolution takes stride 1 only).
typedef struct {
    int64_t in_channels, height, width;        // input image [C, H, W]
    int64_t kernel, padding;                   // k, p
    int64_t out_height, out_width, out_channels;   // Ho = ⌊(H + 2p − k)/s⌋ + 1, Wo likewise, O
    int64_t stride;                            // s ≥ 1
} sf_conv_geometry;

/// Which way an event scatter writes (both visit the same (tap, pixel) pairs in input order).
typedef enum {
    /// sums [Ho·Wo, O]: sums[pixel, :] += v · Wᵀ[tap, :]   (table = Wᵀ [C·k·k, O])
    SF_SCATTER_TO_PIXELS = 0,
    /// dWᵀ [C·k·k, O]: dWᵀ[tap, :] += v · dYᵀ[pixel, :]   (table = dYᵀ [Ho·Wo, O])
    SF_SCATTER_TO_TAPS = 1,
} sf_scatter_direction;

/// 1 when the CPU and the OS support AVX2 (cpuid leaf 7 and the YMM state in XCR0), else 0.
int sf_cpu_has_avx2(void);

/// For every nonzero pixel v of one image [C, H, W] and every (tap, output pixel) it reaches
/// (any stride), in input order (channel, row, column, then ki, kj ascending):
/// `target[row] += v · table[row']` as `direction` says. `level` 1 runs the AVX2 variant (only
/// when `sf_cpu_has_avx2()`), 2 the AVX-512 one (only when `sf_direct_conv_level()` is 2), 0 the
/// baseline; results are bit-identical whichever runs.
/// 1 where sf_event_conv_scatter takes its specialised 3×3 path for g (3×3, stride 1, padding ≤ 2,
/// a multiple of 32 output channels: tap rows in registers, per block of 32 outputs).
int sf_event_conv_k3_path(const sf_conv_geometry *g);
void sf_event_conv_scatter(const float *image, const sf_conv_geometry *geometry,
                           const float *table, float *target,
                           sf_scatter_direction direction, int level);

/// y [rows, out] += x [rows, in] · Wᵀ over the nonzero x (wt = Wᵀ [in, out]), row r from
/// `row_begin` to `row_end`, each row's inputs in increasing order.
void sf_spike_rows_forward(const float *x, int64_t row_begin, int64_t row_end, int64_t in_features,
                           const float *wt, int64_t out_features, float *y, int avx2);

/// dWᵀ [in, out] += xᵀ · dY over the nonzero x, for the input columns [column_begin,
/// column_end): rows r ascending, then columns.
void sf_spike_rows_weight_gradient(const float *x, int64_t rows, int64_t in_features,
                                   int64_t column_begin, int64_t column_end,
                                   const float *dy, int64_t out_features, float *dwt, int avx2);

/// dst [columns, rows] = srcᵀ for src [rows, columns] (pure data movement: exact), in 32×32
/// tiles of 8×8 register blocks; edges one element at a time.
void sf_transpose(const float *src, int64_t rows, int64_t columns, float *dst, int avx2);
// src [rows, columns] → dst [columns, rows] = srcᵀ + bias [columns] per dst row (one add per element).
void sf_transpose_add_bias(const float *src, int64_t rows, int64_t columns, float *dst, const float *bias, int avx2);

/// w [rows, columns] += tᵀ for t [columns, rows]: one add per element, as the plain loop.
void sf_add_transposed(const float *t, int64_t rows, int64_t columns, float *w, int avx2);

/// sums [columns] += the column sums of m [rows, columns], each column summed from 0 in row
/// order and then added, as the plain loop does (the bias gradient of a batch of rows).
void sf_add_column_sums(const float *m, int64_t rows, int64_t columns, float *sums, int avx2);

/// Packs count floats that are all 0 or 1 into bits (element i → bit i % 64 of words[i / 64],
/// the unused high bits of the last word 0). Returns 0, with `words` unspecified, when some
/// element is neither 0 nor 1 (-0 counts as 0, as `v == 0` says).
int sf_pack_spikes(const float *x, int64_t count, uint64_t *words, int avx2);

/// x[i] = bit i of the packed words (1.0 or 0.0), i < count.
void sf_unpack_spikes(const uint64_t *words, int64_t count, float *x, int avx2);

/// im2col, any stride (`Im2col.im2col`'s layout): columns [C·k·k, images·Ho·Wo] with row
/// stride `column_stride`, row (c·k + ki)·k + kj, column img·Ho·Wo + y·Wo + x holding
/// x[img, c, y·s − p + ki, x·s − p + kj] (0 outside the image). Stride-1 runs of a row are
/// copied by 8-lane moves inline rather than by a memcpy call per run (runs are ~Wo floats long).
void sf_im2col(const float *input, int64_t images, const sf_conv_geometry *geometry,
               float *columns, int64_t column_stride, int avx2);

/// One LIF step (`LIFKernel.forwardStep`): u = (u_prev ≥ V_th ? 0 : τ·u_prev) + I (u = I when
/// previous_membrane is NULL), o = u ≥ V_th, over `neurons` floats; `membrane` may alias `current`.
void sf_lif_forward_step(const float *current, const float *previous_membrane, float *membrane, float *spikes,
                         int64_t neurons, float tau, float threshold, int avx2);

/// `sf_lif_forward_step` on I = sums + bias[i % channels] (channels-last rows of `channels`
/// neurons; neurons a multiple of channels, else nothing is written): the bias add and the LIF
/// update in one pass, with the bits of the add followed by `sf_lif_forward_step`. `membrane`
/// must not alias `sums`. `kept_membrane` (may be NULL) gets a copy of u, written with
/// non-temporal stores where it is 16-byte aligned (kept for a backward, not read soon).
void sf_lif_forward_step_biased(const float *sums, const float *bias, int64_t channels, const float *previous_membrane,
                                float *membrane, float *spikes, float *kept_membrane, int64_t neurons, float tau,
                                float threshold, int avx2);

/// `sf_lif_forward_step_biased` over one channels-last image [height, width, channels], then
/// its spikes' 2×2 average pool (or, with `maximum` ≠ 0, max pool) into pooled [height/2,
/// width/2, channels] (overwritten), two rows at a time through a stack buffer, so the
/// full-size spikes are never written: the bits of the step followed by the channels-last
/// pool. `membrane` may be `previous_membrane`.
void sf_lif_forward_pool2_step(const float *sums, const float *bias, int64_t channels, const float *previous_membrane,
                               float *membrane, float *kept_membrane, int64_t height, int64_t width, float *pooled,
                               float tau, float threshold, int maximum, int avx2);

/// One reverse LIF step (`LIFKernel.backwardStep`, eq. 8): δo = g (+ extra) − δu[t+1]·τ·u,
/// δu = δo·h(u) + (u ≥ V_th ? 0 : δu[t+1]·τ), h = height where |u − V_th| < half_width; without
/// next_grad_current δu = (g (+ extra))·h(u). extra and next may be NULL; grad_current may
/// alias grad_spikes or next_grad_current.
void sf_lif_backward_step(const float *grad_spikes, const float *extra_grad_spikes, const float *membrane,
                          const float *next_grad_current, float *grad_current, int64_t neurons, float tau,
                          float threshold, float half_width, float height, int avx2);

/// `sf_lif_backward_step` over one channels-last image [height, width, channels] of a conv →
/// LIF → pool layer (pool k, the pooled gradient [pooled_height, pooled_width, channels]):
/// the spikes' gradient is pooled_grad[(y/k)·pooled_width + x/k, :] · scale inside the full
/// windows (average), or with `maximum` ≠ 0 pooled_grad[…] at each window's first spiking
/// element (u ≥ threshold; the first element where none spikes) and 0 at the others; 0 outside
/// the full windows; column_sums [channels] = Σ_pixels δu in pixel order (overwritten). The
/// bits of the pool's backward, the step and the column sums one after the other.
/// `grad_current` may alias `next_grad_current`.
void sf_lif_backward_pooled_step(const float *pooled_grad, int64_t pool, float scale, int64_t pooled_height,
                                 int64_t pooled_width, int64_t height, int64_t width, int64_t channels,
                                 const float *membrane, const float *next_grad_current, float *grad_current,
                                 float *column_sums, float tau, float threshold, float half_width, float height_h,
                                 int maximum, int avx2);

/// The widest variant of the direct convolution this CPU and OS run: 2 AVX-512 (F and VL, with
/// the ZMM state enabled), 1 AVX2 with FMA, 0 the baseline.
int sf_direct_conv_level(void);

/// Floats of the packed weight `sf_direct_conv_pack_weight` writes: k·k·C·O.
int64_t sf_direct_conv_packed_weight_count(const sf_conv_geometry *geometry);

/// packed [k·k, C, O] = weight [O, C, k, k] reordered (tap = ki·k + kj).
void sf_direct_conv_pack_weight(const float *weight, const sf_conv_geometry *geometry, float *packed);

/// Floats of scratch one `sf_direct_conv_stride1` call needs (one per thread).
int64_t sf_direct_conv_scratch_count(const sf_conv_geometry *geometry);

/// Bits of `sf_direct_conv_stride1`'s `layout`: which side is channels-last ([H, W, C] per image).
enum { SF_DIRECT_CONV_OUTPUT_CHANNELS_LAST = 1, SF_DIRECT_CONV_INPUT_CHANNELS_LAST = 2 };

/// Stride-1 convolution of dense images [images, C, H, W] (layout bit
/// SF_DIRECT_CONV_INPUT_CHANNELS_LAST: [images, H, W, C]) with the packed weight and zero
/// padding p: output [images, O, Ho, Wo] (bit SF_DIRECT_CONV_OUTPUT_CHANNELS_LAST: [images, Ho,
/// Wo, O]) = the cross-correlation + bias[o] (bias may be NULL), overwritten. Needs O a multiple
/// of 8 (else it writes nothing). `level` as `sf_direct_conv_level` (at most what it returns);
/// products may fuse (FMA), so the result equals the plain convolution to rounding.
void sf_direct_conv_stride1(const float *input, int64_t images, const sf_conv_geometry *geometry,
                            const float *packed_weight, const float *bias, float *output, float *scratch,
                            int layout, int level);

/// c [m, n] = a [m, k] · b [k, n] (row-major, overwritten), n a multiple of 8 (else it writes
/// nothing): the register blocks of the direct convolution with one tap, reading b in place
/// (no packing), for products with few rows such as one time step of a recurrent layer's
/// backward. `level` and rounding as `sf_direct_conv_stride1`.
void sf_row_product(const float *a, int64_t m, int64_t k, const float *b, int64_t n, float *c, int level);

/// The models, reset rules and surrogates of `sf_neuron_forward_step` / `_backward_step`
/// (NeuronModel.swift): LIF and IF (β = 1) are the leaky model.
enum { SF_MODEL_LEAKY = 0, SF_MODEL_CURRENT_BASED = 1, SF_MODEL_ADAPTIVE = 2 };
enum { SF_RESET_ZERO = 0, SF_RESET_VALUE = 1, SF_RESET_SUBTRACT = 2 };
enum { SF_SURROGATE_RECTANGLE = 0, SF_SURROGATE_FAST_SIGMOID = 1, SF_SURROGATE_ARCTAN = 2,
       SF_SURROGATE_TRIANGLE = 3 };

/// A neuron population's constants shared by all its neurons (β and ϑ come per neuron).
/// surrogate_a, surrogate_b, as the Swift surrogate computes them: rectangle a/2 and γ/a;
/// fast sigmoid k and γ; arctan π/2·α (Swift's Float.pi) and γ·(α/2); triangle w and γ/w.
typedef struct {
    int32_t model, reset, surrogate;
    float reset_value;          // V_r
    float synapse_decay;        // α (current-based)
    float adaptation_decay;     // ρ (adaptive)
    float adaptation_strength;  // b (adaptive)
    float surrogate_a, surrogate_b;
} sf_neuron_constants;

/// One forward step of the neurons j ∈ [begin, end) of every sample (`NeuronModel.step`):
/// current I[t] [B, P], the state at t − 1 (u, s, a, o [B, P]; all NULL at t = 0, s only for
/// the current-based model, a only for the adaptive one) → u, s, a, o at t [B, P]; β and ϑ
/// [P]. Each output may alias its previous state (a streaming step keeps one state).
void sf_neuron_forward_step(const sf_neuron_constants *constants, const float *decay, const float *threshold,
                            const float *current, const float *previous_membrane, const float *previous_synapse,
                            const float *previous_adaptation, const float *previous_spikes, float *membrane,
                            float *synapse, float *adaptation, float *spikes, int64_t batch, int64_t per_sample,
                            int64_t begin, int64_t end, int avx2);

/// One reverse step of the neurons j ∈ [begin, end) (`NeuronModel.backwardStep`): g_o[t]
/// [B, P] (+ extra [B, P] or NULL), u and a at t and t − 1 [B, P] (t − 1 NULL at t = 0; a
/// only for the adaptive model; the spikes are recomputed as u ≥ θ), the adjoints δu, δs, δa
/// of t + 1 [B, P] (overwritten with those of t) → dL/dI[t] [B, P]; ACCUMULATES dL/dϑ and
/// dL/dβ [P] over the batch in sample order.
void sf_neuron_backward_step(const sf_neuron_constants *constants, const float *decay, const float *threshold,
                             const float *grad_spikes, const float *extra_grad_spikes, const float *membrane,
                             const float *adaptation, const float *previous_membrane,
                             const float *previous_adaptation, float *adjoint_membrane, float *adjoint_synapse,
                             float *adjoint_adaptation, float *grad_current, float *grad_threshold,
                             float *grad_decay, int64_t batch, int64_t per_sample, int64_t begin, int64_t end,
                             int avx2);

#endif
