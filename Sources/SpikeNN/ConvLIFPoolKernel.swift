import SpikeTensor

/// The pooling of a fused conv → LIF → pool pass: k×k windows at stride k (floor, as the pool
/// layers), the mean of a window's spikes (`AvgPool2d`) or their maximum (`MaxPool2d`: 1 where
/// a neuron of the window spikes; its gradient goes to the window's first spiking neuron, or
/// to its first neuron where none spikes, as `MaxPool2dKernel` routes it). `.average(1)` is no
/// pool at all (a spiking convolution fused with its LIF alone: y = o·1, exactly o).
public struct FusedPool: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable { case average, maximum }
    public let kind: Kind
    /// k, the window's side and its stride.
    public let size: Int

    public static func average(_ k: Int) -> FusedPool { FusedPool(kind: .average, size: k) }
    public static func maximum(_ k: Int) -> FusedPool { FusedPool(kind: .maximum, size: k) }
    public var description: String { (kind == .average ? "pool " : "max pool ") + "\(size)" }
}

/// Inference of event-driven conv → LIF → average or max pooling, fused per image: the
/// `[T, B, O, Ho, Wo]` currents, membranes and spikes between the three layers are never
/// written out. For each image b and time step t = 0 … T−1, in a per-image buffer that stays
/// in cache:
///
///     I[t]  = b + W ⋆ x[t, b]                      (EventConv2dKernel.synapticSums + bias)
///     u[t]  = τ · u[t−1] · (1 − o[t−1]) + I[t]      (LIF, eqs. 1–3; u[−1] = o[−1] = 0)
///     o[t]  = 1 if u[t] ≥ V_th else 0               (eq. 4)
///     y[t, b, o, i, j] = (1/k²) · Σ_{a,c<k} o[t][o, i·k + a, j·k + c]   (AvgPool2d(k))
///                     or max_{a,c<k} o[t][o, i·k + a, j·k + c]           (MaxPool2d(k))
///
/// The currents and membranes use the same operations in the same order as `Conv2d`
/// (event-driven) → `LIF` (inference), only channels-last, and the pooled values are sums or
/// maxima of 0/1 spikes (exact in any order), so the output is the layers' bit for bit
/// (`ConvLIFPoolTests` compares them).
/// Training has its own fused pass, which keeps u for the backward (`ConvLIFPoolTraining.swift`).
public enum ConvLIFPoolKernel {
    /// Floats of scratch `inference` needs per worker: the current, membrane, spikes and pooled
    /// map of one image (channels-last).
    public static func scratchCount(_ g: Conv2dGeometry) -> Int { 4 * g.outputPixels * g.outChannels }

    /// One image at one time step, the body of every fused pass (inference, training forward,
    /// streaming step): `current` ← W ⋆ x (event-driven, `[Ho·Wo, O]`), then I = current + b and
    /// the LIF update from `previous` (nil at t = 0) into `membrane` and `spikes` in one pass
    /// (`VectorKernels.lifForwardStep(sums:bias:…)`), then the k×k mean or maximum of the spikes
    /// channels-last into `pooled` (for k = 2 both in one C pass, two rows at a time,
    /// `lifForwardPool2Step`: `spikes` is then not written), and transposed into `output`
    /// `[O, Ho/k, Wo/k]`.
    /// `previous` may be `membrane` (the update is elementwise); `current` must be neither.
    @inline(__always)
    static func imageStep(_ x: UnsafePointer<Float>, geometry g: Conv2dGeometry, weightTransposed wt: UnsafePointer<Float>,
                          bias: UnsafePointer<Float>, neuron p: LIFParameters, pool: FusedPool,
                          previous: UnsafePointer<Float>?, membrane: UnsafeMutablePointer<Float>,
                          keptMembrane: UnsafeMutablePointer<Float>? = nil,
                          current: UnsafeMutablePointer<Float>, spikes: UnsafeMutablePointer<Float>,
                          pooled: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let outC = g.outChannels, k = pool.size
        EventConv2dKernel.synapticSums(image: x, geometry: g, weightTransposed: wt, into: current)
        if k == 2 {
            // the paper's pool: LIF and pool two rows at a time, the spikes never written
            VectorKernels.lifForwardPool2Step(sums: current, bias: bias, channels: outC, previousMembrane: previous,
                                              membrane: membrane, keptMembrane: keptMembrane, height: g.outputHeight,
                                              width: g.outputWidth, pooled: pooled, maximum: pool.kind == .maximum,
                                              tau: p.tau, threshold: p.threshold)
        } else {
            VectorKernels.lifForwardStep(sums: current, bias: bias, channels: outC, previousMembrane: previous,
                                         membrane: membrane, spikes: spikes, keptMembrane: keptMembrane,
                                         neurons: g.outputImageSize, tau: p.tau, threshold: p.threshold)
            if k == 1 {   // no pool: the spikes themselves
                transposeTiled(spikes, rows: g.outputPixels, columns: outC, into: output)
                return
            }
            poolChannelsLast(spikes, height: g.outputHeight, width: g.outputWidth, channels: outC, pool: pool,
                             into: pooled)
        }
        transposeTiled(pooled, rows: (g.outputHeight / k) * (g.outputWidth / k), columns: outC, into: output)
    }

    // input [T, B, C, H, W] (sparse), weightTransposed Wᵀ [C·k·k, O], bias [O]
    // → output [T, B, O, Ho/k, Wo/k] (overwritten); scratch: Parallel.workers · scratchCount(g) floats
    public static func inference(input: UnsafePointer<Float>, steps: Int, batch: Int, geometry g: Conv2dGeometry,
                                 weightTransposed wt: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                 neuron p: LIFParameters, pool: FusedPool,
                                 output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let k = pool.size
        let image = g.outputImageSize, pooledImage = g.outChannels * (g.outputHeight / k) * (g.outputWidth / k)
        Parallel.forEachChunk(batch, chunks: Parallel.workers) { slot, images in
            let current = scratch + slot * scratchCount(g)   // I[t] [P, O]
            let membrane = current + image                    // u[t−1], then u[t] [P, O]
            let spikes = membrane + image, pooled = spikes + image
            for b in images {
                for t in 0..<steps {
                    let n = t * batch + b
                    imageStep(input + n * g.inputImageSize, geometry: g, weightTransposed: wt, bias: bias, neuron: p,
                              pool: pool, previous: t == 0 ? nil : UnsafePointer(membrane), membrane: membrane,
                              current: current, spikes: spikes, pooled: pooled, output: output + n * pooledImage)
                }
            }
        }
    }
}
