import SpikeTensor

/// One time step of a spiking convolution followed by average or max pooling, fused per image and
/// channels-last (`ConvLIFPoolKernel.imageStep`, as the time-batched fused passes): x[t] `[B, C, H, W]` →
/// pooled spikes `[B, O, Ho/k, Wo/k]`, the membranes `[B, Ho, Wo, O]` kept between steps.
///
///     I[t] = W ⋆ x[t] + b            (EventConv2dKernel.synapticSums [Ho·Wo, O], + bias)
///     u[t], o[t] from I[t]            (LIFKernel.forwardStep over the image's Ho·Wo·O neurons)
///     y[t] = Pool_k(o[t])             (mean or max, channels-last, then transposed to NCHW)
///
/// Each element gets the operations of `Conv2dStep` → `LIFStep` → the pool's step in their
/// order, only in another layout, so the pooled spikes are theirs bit for bit
/// (`LayerStepTests`); what is saved is the transpose of the full `[O, Ho, Wo]` sums and the
/// NCHW pooling, leaving one transpose of the k²-times smaller pooled map.
/// `Sequential.makeStep` builds it for a `.convLIFPool` stage of its `KernelPlan`.
final class ConvLIFPoolStep: LayerStep {
    let layer: SpikingConv2d
    let batch: Int
    let geometry: Conv2dGeometry
    let pool: FusedPool
    let weight: TransposedWeight
    let membrane: StepBuffer            // u [B, Ho·Wo, O]
    let output: StepBuffer              // y [B, O, Ho/k, Wo/k]
    let scratch: StepBuffer             // per worker: I [Ho·Wo, O], o [Ho·Wo, O], pooled [Ho/k·Wo/k, O]
    private var first = true
    var outputShape: [Int] { [geometry.outChannels, geometry.outputHeight / pool.size, geometry.outputWidth / pool.size] }

    init(_ layer: SpikingConv2d, pool: FusedPool, batch: Int, inputShape: [Int]) {
        let k = pool.size
        self.layer = layer
        self.batch = batch
        geometry = layer.conv.geometry(for: inputShape)
        self.pool = pool
        weight = TransposedWeight(layer.conv.weight)
        membrane = StepBuffer(batch * geometry.outputImageSize)
        output = StepBuffer(batch * geometry.outChannels * (geometry.outputHeight / k) * (geometry.outputWidth / k))
        scratch = StepBuffer(Parallel.workers * 3 * geometry.outputImageSize)
    }

    // x[t] [B, C, H, W] → pooled spikes [B, O, Ho/k, Wo/k]
    func step(_ input: UnsafePointer<Float>) -> UnsafePointer<Float> {
        let g = geometry, k = pool.size, pool = pool, image = g.outputImageSize
        let pooledImage = g.outChannels * (g.outputHeight / k) * (g.outputWidth / k)
        let neuron = layer.lif.neuron, first = first
        layer.conv.bias.value.withPointer { bias in
            Parallel.forEachChunk(batch, chunks: Parallel.workers) { slot, images in
                let current = scratch.pointer + slot * 3 * image, spikes = current + image, pooled = spikes + image
                for b in images {
                    let u = membrane.pointer + b * image
                    ConvLIFPoolKernel.imageStep(input + b * g.inputImageSize, geometry: g, weightTransposed: weight.pointer,
                                                bias: bias, neuron: neuron, pool: pool,
                                                previous: first ? nil : UnsafePointer(u), membrane: u, current: current,
                                                spikes: spikes, pooled: pooled, output: output.pointer + b * pooledImage)
                }
            }
        }
        self.first = false
        return UnsafePointer(output.pointer)
    }

    func reset() { membrane.zero(); output.zero(); first = true }
}

/// The slot of a layer whose step another step already computed (the pool after a fused
/// `ConvLIFPoolStep`): hands its input on, so a chain keeps one step per layer.
final class PassThroughStep: LayerStep {
    let outputShape: [Int]
    init(shape: [Int]) { outputShape = shape }
    func step(_ input: UnsafePointer<Float>) -> UnsafePointer<Float> { input }
    func reset() {}
}
