import SpikeTensor

/// Inference of event-driven conv → LIF → average pooling, fused per image: the
/// `[T, B, O, Ho, Wo]` currents, membranes and spikes between the three layers are never
/// written out. For each image b and time step t = 0 … T−1, in a per-image buffer that stays
/// in cache:
///
///     I[t]  = b + W ⋆ x[t, b]                      (EventConv2dKernel.synapticSums + bias)
///     u[t]  = τ · u[t−1] · (1 − o[t−1]) + I[t]      (LIF, eqs. 1–3; u[−1] = o[−1] = 0)
///     o[t]  = 1 if u[t] ≥ V_th else 0               (eq. 4)
///     y[t, b, o, i, j] = (1/k²) · Σ_{a,c<k} o[t][o, i·k + a, j·k + c]   (AvgPool2d(k))
///
/// The currents and membranes use the same operations in the same order as `Conv2d`
/// (event-driven) → `LIF` (inference), and the pooled values are sums of 0/1 spikes (exact in
/// any order), so the output is the layers' bit for bit (`ConvLIFPoolTests` compares them).
/// Training has its own fused pass, which keeps u for the backward (`ConvLIFPoolTraining.swift`).
public enum ConvLIFPoolKernel {
    /// Floats of scratch `inference` needs per worker: current and membrane of one image.
    public static func scratchCount(_ g: Conv2dGeometry) -> Int { 2 * g.outputPixels * g.outChannels }

    // input [T, B, C, H, W] (sparse), weightTransposed Wᵀ [C·k·k, O], bias [O]
    // → output [T, B, O, Ho/k, Wo/k] (overwritten); scratch: Parallel.workers · scratchCount(g) floats
    public static func inference(input: UnsafePointer<Float>, steps: Int, batch: Int, geometry g: Conv2dGeometry,
                                 weightTransposed wt: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                 neuron p: LIFParameters, poolSize k: Int,
                                 output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let outC = g.outChannels, pixels = g.outputPixels, ow = g.outputWidth
        let ph = g.outputHeight / k, pw = g.outputWidth / k, pooledImage = outC * ph * pw
        let tau = p.tau, vth = p.threshold, scale = 1 / Float(k * k)
        Parallel.forEachChunk(batch, chunks: Parallel.workers) { slot, images in
            let current = scratch + slot * scratchCount(g)   // I[t] [P, O], pixel-major
            let membrane = current + pixels * outC            // u[t−1], then u[t] [P, O]
            for b in images {
                for t in 0..<steps {
                    let n = t * batch + b
                    EventConv2dKernel.synapticSums(image: input + n * g.inputImageSize, geometry: g,
                                                   weightTransposed: wt, into: current)
                    // LIF over the image's P·O neurons; the spikes overwrite the currents.
                    for px in 0..<pixels {
                        let i = current + px * outC, u = membrane + px * outC
                        if t == 0 {
                            for o in 0..<outC {
                                let v = i[o] + bias[o]
                                u[o] = v
                                i[o] = v >= vth ? 1 : 0
                            }
                        } else {
                            for o in 0..<outC {
                                let up = u[o]
                                let v = (up >= vth ? 0 : tau * up) + (i[o] + bias[o])
                                u[o] = v
                                i[o] = v >= vth ? 1 : 0
                            }
                        }
                    }
                    // k×k mean of the spikes (full windows only, as AvgPool2d) → NCHW
                    let out = output + n * pooledImage
                    for o in 0..<outC {
                        for pi in 0..<ph {
                            for pj in 0..<pw {
                                var sum: Float = 0
                                for a in 0..<k {
                                    var row: Float = 0
                                    let base = ((pi * k + a) * ow + pj * k) * outC + o
                                    for c in 0..<k { row += current[base + c * outC] }
                                    sum += row
                                }
                                out[(o * ph + pi) * pw + pj] = sum * scale
                            }
                        }
                    }
                }
            }
        }
    }
}
