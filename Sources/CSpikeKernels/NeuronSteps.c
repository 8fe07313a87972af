// One time step of every neuron model but the paper's plain LIF (`NeuronModel.step` and
// `backwardStep`, the equations in NeuronModel.swift), forward and BPTT backward, eight
// neurons at a time, in a baseline and an AVX2 variant from one body (as LIFSteps.c). The
// model, the reset rule and the surrogate are constants of each inlined copy of the body (the
// switch runs once per call, never per neuron). Each neuron gets the same float operations in
// the same order as the Swift step, no FMA contraction, so the bits are the Swift step's.
//
// Layout: `[B, P]` per step (P neurons per sample, row stride P); a call covers the neurons
// j ∈ [begin, end) of every sample; β and ϑ are `[P]`. A last partial group of fewer than
// eight neurons runs the same lanes on a zero-padded copy.
#include "CSpikeKernels.h"
#include "Lanes.h"

#pragma clang fp contract(off)

typedef int32_t sf_mask __attribute__((vector_size(32)));
#define SPLAT(s) ((sf_lanes){s, s, s, s, s, s, s, s})
#define select_lanes(mask, a, b) ((sf_lanes)(((sf_mask)(a) & (mask)) | ((sf_mask)(b) & ~(mask))))
#define abs_lanes(x) ((sf_lanes)((sf_mask)(x) & (sf_mask){0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff, \
                                                           0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff}))

/// `count` (1…8) floats at p, zero-padded to eight lanes.
#define LOAD(p, count) ({ sf_lanes v_ = {0}; if ((count) == 8) v_ = LANES_AT(p); \
                          else for (int q_ = 0; q_ < (count); q_++) v_[q_] = (p)[q_]; v_; })
/// The first `count` lanes of v stored at p.
#define STORE(p, count, v) do { const sf_lanes w_ = (v); if ((count) == 8) LANES_AT(p) = w_; \
                                else for (int q_ = 0; q_ < (count); q_++) (p)[q_] = w_[q_]; } while (0)

/// v̂ = reset(u, o, θ) of the reset rule (`ResetRule.reset`): u·(1 − o), u·(1 − o) + V_r·o, u − θ·o.
#define RESET(rule, u, o, theta) ((rule) == SF_RESET_ZERO ? (u) * (one - (o)) \
                                  : (rule) == SF_RESET_VALUE ? (u) * (one - (o)) + valueV * (o) \
                                  : (u) - (theta) * (o))
/// θ = ϑ + b·a (adaptive), else ϑ (`NeuronModel.threshold`).
#define THRESHOLD(model, vth, a) ((model) == SF_MODEL_ADAPTIVE ? (vth) + strengthV * (a) : (vth))

SF_INLINE void neuron_forward_body(const sf_neuron_constants *c, const float *decay, const float *threshold,
                                   const float *current, const float *prev_u, const float *prev_s,
                                   const float *prev_a, const float *prev_o, float *membrane, float *synapse,
                                   float *adaptation, float *spikes, int64_t batch, int64_t per_sample,
                                   int64_t begin, int64_t end, const int model, const int rule) {
    const sf_lanes zero = SPLAT(0.0f), one = SPLAT(1.0f), valueV = SPLAT(c->reset_value);
    const sf_lanes alphaV = SPLAT(c->synapse_decay), rhoV = SPLAT(c->adaptation_decay);
    const sf_lanes strengthV = SPLAT(c->adaptation_strength);
    for (int64_t b = 0; b < batch; b++) {
        for (int64_t j = begin; j < end; j += 8) {
            const int k = end - j < 8 ? (int)(end - j) : 8;
            const int64_t i = b * per_sample + j;
            const sf_lanes beta = LOAD(decay + j, k), vth = LOAD(threshold + j, k);
            const sf_lanes current_v = LOAD(current + i, k);
            sf_lanes up = zero, sp = zero, ap = zero, op = zero;   // state at t − 1 (0 at t = 0)
            if (prev_u) {
                up = LOAD(prev_u + i, k);
                op = LOAD(prev_o + i, k);
                if (model == SF_MODEL_CURRENT_BASED) sp = LOAD(prev_s + i, k);
                if (model == SF_MODEL_ADAPTIVE) ap = LOAD(prev_a + i, k);
            }
            // s = α·s' + I; a = ρ·a' + o'; u = β·reset(u', o', θ') + (s or I); o = u ≥ θ
            const sf_lanes s = model == SF_MODEL_CURRENT_BASED ? alphaV * sp + current_v : zero;
            const sf_lanes a = model == SF_MODEL_ADAPTIVE ? rhoV * ap + op : zero;
            const sf_lanes after_reset = RESET(rule, up, op, THRESHOLD(model, vth, ap));
            const sf_lanes u = beta * after_reset + (model == SF_MODEL_CURRENT_BASED ? s : current_v);
            const sf_lanes o = select_lanes(u >= THRESHOLD(model, vth, a), one, zero);
            STORE(membrane + i, k, u);
            STORE(spikes + i, k, o);
            if (model == SF_MODEL_CURRENT_BASED) STORE(synapse + i, k, s);
            if (model == SF_MODEL_ADAPTIVE) STORE(adaptation + i, k, a);
        }
    }
}

/// h(x) of the surrogate (`SurrogateGradient.derivative`), from `c->surrogate_a`, `_b`.
#define SURROGATE(kind, x) ((kind) == SF_SURROGATE_RECTANGLE \
        ? select_lanes(((x) < surrA) & ((x) > -surrA), surrB, zero) \
    : (kind) == SF_SURROGATE_FAST_SIGMOID ? ({ const sf_lanes d_ = one + surrA * abs_lanes(x); surrB / (d_ * d_); }) \
    : (kind) == SF_SURROGATE_ARCTAN ? ({ const sf_lanes z_ = surrA * (x); surrB / (one + z_ * z_); }) \
    : ({ const sf_lanes r_ = one - abs_lanes(x) / surrA; surrB * select_lanes(r_ >= zero, r_, zero); }))

SF_INLINE void neuron_backward_body(const sf_neuron_constants *c, const float *decay, const float *threshold,
                                    const float *grad_spikes, const float *extra, const float *membrane,
                                    const float *adaptation, const float *prev_u, const float *prev_a,
                                    float *adj_u, float *adj_s, float *adj_a, float *grad_current,
                                    float *grad_threshold, float *grad_decay, int64_t batch, int64_t per_sample,
                                    int64_t begin, int64_t end, const int model, const int rule, const int kind) {
    const sf_lanes zero = SPLAT(0.0f), one = SPLAT(1.0f), valueV = SPLAT(c->reset_value);
    const sf_lanes alphaV = SPLAT(c->synapse_decay), rhoV = SPLAT(c->adaptation_decay);
    const sf_lanes strengthV = SPLAT(c->adaptation_strength);
    const sf_lanes surrA = SPLAT(c->surrogate_a), surrB = SPLAT(c->surrogate_b);
    for (int64_t b = 0; b < batch; b++) {
        for (int64_t j = begin; j < end; j += 8) {
            const int k = end - j < 8 ? (int)(end - j) : 8;
            const int64_t i = b * per_sample + j;
            const sf_lanes beta = LOAD(decay + j, k), vth = LOAD(threshold + j, k);
            const sf_lanes g = LOAD(grad_spikes + i, k) + (extra ? LOAD(extra + i, k) : zero);
            const sf_lanes u = LOAD(membrane + i, k);
            const sf_lanes a = model == SF_MODEL_ADAPTIVE ? LOAD(adaptation + i, k) : zero;
            const sf_lanes theta = THRESHOLD(model, vth, a);
            const sf_lanes o = select_lanes(u >= theta, one, zero);   // the forward's spike, recomputed
            const sf_lanes h = SURROGATE(kind, u - theta);
            // (∂v̂/∂u, ∂v̂/∂o, ∂v̂/∂θ) of the reset rule (`ResetRule.partials`)
            const sf_lanes p_u = rule == SF_RESET_SUBTRACT ? one : one - o;
            const sf_lanes p_o = rule == SF_RESET_ZERO ? -u : rule == SF_RESET_VALUE ? valueV - u : -theta;
            const sf_lanes p_theta = rule == SF_RESET_SUBTRACT ? -o : zero;
            const sf_lanes carried = beta * LOAD(adj_u + i, k);
            sf_lanes dO = g + carried * p_o;
            if (model == SF_MODEL_ADAPTIVE) dO += LOAD(adj_a + i, k);
            const sf_lanes du = h * dO + carried * p_u;
            const sf_lanes dTheta = -(h * dO) + carried * p_theta;
            if (model == SF_MODEL_ADAPTIVE) STORE(adj_a + i, k, strengthV * dTheta + rhoV * LOAD(adj_a + i, k));
            const sf_lanes ds = model == SF_MODEL_CURRENT_BASED ? du + alphaV * LOAD(adj_s + i, k) : du;
            if (model == SF_MODEL_CURRENT_BASED) STORE(adj_s + i, k, ds);
            STORE(adj_u + i, k, du);
            STORE(grad_current + i, k, ds);
            sf_lanes dDecay = zero;   // δu·v̂[t−1]
            if (prev_u) {
                const sf_lanes up = LOAD(prev_u + i, k);
                const sf_lanes ap = model == SF_MODEL_ADAPTIVE ? LOAD(prev_a + i, k) : zero;
                const sf_lanes theta_p = THRESHOLD(model, vth, ap);
                const sf_lanes op = select_lanes(up >= theta_p, one, zero);
                dDecay = du * RESET(rule, up, op, theta_p);
            }
            STORE(grad_threshold + j, k, LOAD(grad_threshold + j, k) + dTheta);
            STORE(grad_decay + j, k, LOAD(grad_decay + j, k) + dDecay);
        }
    }
}

/// One call of `neuron_forward_body` per model and reset rule, each with constant arguments.
#define FORWARD_ARGS c, decay, threshold, current, prev_u, prev_s, prev_a, prev_o, membrane, synapse, adaptation, \
                     spikes, batch, per_sample, begin, end
#define FORWARD_CASES(model) \
    switch (c->reset) { \
    case SF_RESET_ZERO: neuron_forward_body(FORWARD_ARGS, model, SF_RESET_ZERO); break; \
    case SF_RESET_VALUE: neuron_forward_body(FORWARD_ARGS, model, SF_RESET_VALUE); break; \
    default: neuron_forward_body(FORWARD_ARGS, model, SF_RESET_SUBTRACT); break; \
    }
#define FORWARD_DISPATCH \
    switch (c->model) { \
    case SF_MODEL_LEAKY: FORWARD_CASES(SF_MODEL_LEAKY) break; \
    case SF_MODEL_CURRENT_BASED: FORWARD_CASES(SF_MODEL_CURRENT_BASED) break; \
    default: FORWARD_CASES(SF_MODEL_ADAPTIVE) break; \
    }
#define FORWARD_PARAMETERS const sf_neuron_constants *c, const float *decay, const float *threshold, \
    const float *current, const float *prev_u, const float *prev_s, const float *prev_a, const float *prev_o, \
    float *membrane, float *synapse, float *adaptation, float *spikes, int64_t batch, int64_t per_sample, \
    int64_t begin, int64_t end

/// One call of `neuron_backward_body` per model, reset rule and surrogate.
#define BACKWARD_ARGS c, decay, threshold, grad_spikes, extra, membrane, adaptation, prev_u, prev_a, adj_u, adj_s, \
                      adj_a, grad_current, grad_threshold, grad_decay, batch, per_sample, begin, end
#define BACKWARD_SURROGATES(model, rule) \
    switch (c->surrogate) { \
    case SF_SURROGATE_RECTANGLE: neuron_backward_body(BACKWARD_ARGS, model, rule, SF_SURROGATE_RECTANGLE); break; \
    case SF_SURROGATE_FAST_SIGMOID: \
        neuron_backward_body(BACKWARD_ARGS, model, rule, SF_SURROGATE_FAST_SIGMOID); break; \
    case SF_SURROGATE_ARCTAN: neuron_backward_body(BACKWARD_ARGS, model, rule, SF_SURROGATE_ARCTAN); break; \
    default: neuron_backward_body(BACKWARD_ARGS, model, rule, SF_SURROGATE_TRIANGLE); break; \
    }
#define BACKWARD_CASES(model) \
    switch (c->reset) { \
    case SF_RESET_ZERO: BACKWARD_SURROGATES(model, SF_RESET_ZERO) break; \
    case SF_RESET_VALUE: BACKWARD_SURROGATES(model, SF_RESET_VALUE) break; \
    default: BACKWARD_SURROGATES(model, SF_RESET_SUBTRACT) break; \
    }
#define BACKWARD_DISPATCH \
    switch (c->model) { \
    case SF_MODEL_LEAKY: BACKWARD_CASES(SF_MODEL_LEAKY) break; \
    case SF_MODEL_CURRENT_BASED: BACKWARD_CASES(SF_MODEL_CURRENT_BASED) break; \
    default: BACKWARD_CASES(SF_MODEL_ADAPTIVE) break; \
    }
#define BACKWARD_PARAMETERS const sf_neuron_constants *c, const float *decay, const float *threshold, \
    const float *grad_spikes, const float *extra, const float *membrane, const float *adaptation, \
    const float *prev_u, const float *prev_a, float *adj_u, float *adj_s, float *adj_a, float *grad_current, \
    float *grad_threshold, float *grad_decay, int64_t batch, int64_t per_sample, int64_t begin, int64_t end

static void neuron_forward_baseline(FORWARD_PARAMETERS) { FORWARD_DISPATCH }
static void neuron_backward_baseline(BACKWARD_PARAMETERS) { BACKWARD_DISPATCH }
#ifdef SF_X86
__attribute__((target("avx2"))) static void neuron_forward_avx2(FORWARD_PARAMETERS) { FORWARD_DISPATCH }
__attribute__((target("avx2"))) static void neuron_backward_avx2(BACKWARD_PARAMETERS) { BACKWARD_DISPATCH }
#else
#define neuron_forward_avx2 neuron_forward_baseline
#define neuron_backward_avx2 neuron_backward_baseline
#endif

void sf_neuron_forward_step(const sf_neuron_constants *c, const float *decay, const float *threshold,
                            const float *current, const float *previous_membrane, const float *previous_synapse,
                            const float *previous_adaptation, const float *previous_spikes, float *membrane,
                            float *synapse, float *adaptation, float *spikes, int64_t batch, int64_t per_sample,
                            int64_t begin, int64_t end, int avx2) {
    if (begin < 0 || end > per_sample || begin >= end || batch <= 0) return;
    if (avx2) {
        neuron_forward_avx2(c, decay, threshold, current, previous_membrane, previous_synapse, previous_adaptation,
                            previous_spikes, membrane, synapse, adaptation, spikes, batch, per_sample, begin, end);
    } else {
        neuron_forward_baseline(c, decay, threshold, current, previous_membrane, previous_synapse,
                                previous_adaptation, previous_spikes, membrane, synapse, adaptation, spikes, batch,
                                per_sample, begin, end);
    }
}

void sf_neuron_backward_step(const sf_neuron_constants *c, const float *decay, const float *threshold,
                             const float *grad_spikes, const float *extra_grad_spikes, const float *membrane,
                             const float *adaptation, const float *previous_membrane,
                             const float *previous_adaptation, float *adjoint_membrane, float *adjoint_synapse,
                             float *adjoint_adaptation, float *grad_current, float *grad_threshold,
                             float *grad_decay, int64_t batch, int64_t per_sample, int64_t begin, int64_t end,
                             int avx2) {
    if (begin < 0 || end > per_sample || begin >= end || batch <= 0) return;
    if (avx2) {
        neuron_backward_avx2(c, decay, threshold, grad_spikes, extra_grad_spikes, membrane, adaptation,
                             previous_membrane, previous_adaptation, adjoint_membrane, adjoint_synapse,
                             adjoint_adaptation, grad_current, grad_threshold, grad_decay, batch, per_sample, begin,
                             end);
    } else {
        neuron_backward_baseline(c, decay, threshold, grad_spikes, extra_grad_spikes, membrane, adaptation,
                                 previous_membrane, previous_adaptation, adjoint_membrane, adjoint_synapse,
                                 adjoint_adaptation, grad_current, grad_threshold, grad_decay, batch, per_sample,
                                 begin, end);
    }
}
