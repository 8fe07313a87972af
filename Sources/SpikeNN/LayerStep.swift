import SpikeTensor

/// One time step of a layer — the layer's equations applied to one time bin, in the style of
/// Norse's step functions `(input[t], state, parameters) → (output[t], state)`:
///
///     y[t], state[t] = step(x[t], state[t−1], parameters)      x[t] [B, …in] → y[t] [B, …out]
///
/// The state (the membrane u[t−1] of each LIF population; o[t−1] = 1{u[t−1] ≥ V_th} is
/// recomputed from it) lives in the step's preallocated buffers, so `step` allocates nothing:
/// the form a live sensor uses. Parameters are read from the layer's `Parameter`s at every
/// step (cached transposes follow `Parameter.version`), so changed weights are never stale.
///
/// Every layer defines its step (`Layer.makeStep`). Its multi-step `forward` over `[T, B, …]`
/// is an optimisation of scanning the step from `reset()`; `LayerStepTests` checks the two
/// give the same outputs bit for bit (on sums that are exact in Float32).
public protocol LayerStep: AnyObject {
    /// One sample's output shape, without B (e.g. `[32, 28, 28]` or `[128]`).
    var outputShape: [Int] { get }
    /// x[t] `[B, …in]` → y[t] `[B, …out]`; advances the state. The result stays valid
    /// until the next `step` or `reset`.
    func step(_ input: UnsafePointer<Float>) -> UnsafePointer<Float>
    /// Back to the state before the first step (u = o = 0).
    func reset()
}

/// A preallocated, zeroed Float buffer owned by a step (freed with it).
public final class StepBuffer {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    public init(_ count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }
    public func zero() { pointer.update(repeating: 0, count: count) }
    public var buffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: pointer, count: count) }
    deinit { pointer.deallocate() }
}

/// Steps applied in order (a `Sequential`, or a synapse followed by its neurons).
public final class ChainStep: LayerStep {
    public let steps: [LayerStep]
    public let outputShape: [Int]
    public init(_ steps: [LayerStep], inputShape: [Int]) {
        self.steps = steps
        outputShape = steps.last?.outputShape ?? inputShape
    }
    public func step(_ input: UnsafePointer<Float>) -> UnsafePointer<Float> {
        var x = input
        for s in steps { x = s.step(x) }
        return x
    }
    public func reset() { for s in steps { s.reset() } }
}

/// The steps of `layers` in order, each given the previous one's output shape.
public func makeSteps(_ layers: [Layer], batch: Int, inputShape: [Int]) -> ChainStep {
    var steps: [LayerStep] = []
    var shape = inputShape
    for layer in layers {
        let s = layer.makeStep(batch: batch, inputShape: shape)
        shape = s.outputShape
        steps.append(s)
    }
    return ChainStep(steps, inputShape: inputShape)
}

/// LIF neurons of one step, `[B·N]`: u[t] = τ·u[t−1]·(1 − o[t−1]) + I[t], o[t] = 1{u[t] ≥ V_th}
/// (`LIFKernel.forwardStep`, the kernel the multi-step scan runs at every t).
final class LIFStep: LayerStep {
    let parameters: LIFParameters
    let outputShape: [Int]
    let membrane: StepBuffer
    let spikes: StepBuffer
    private var first = true
    init(_ parameters: LIFParameters, batch: Int, shape: [Int]) {
        self.parameters = parameters
        outputShape = shape
        membrane = StepBuffer(batch * shape.reduce(1, *))
        spikes = StepBuffer(membrane.count)
    }
    // current I[t] [B·N] → spikes o[t] [B·N]
    func step(_ current: UnsafePointer<Float>) -> UnsafePointer<Float> {
        LIFKernel.forwardStep(current: current, previousMembrane: first ? nil : UnsafePointer(membrane.pointer),
                              membrane: membrane.pointer, spikes: spikes.pointer, neurons: membrane.count,
                              parameters: parameters)
        first = false
        return UnsafePointer(spikes.pointer)
    }
    func reset() { membrane.zero(); spikes.zero(); first = true }
}

/// Wᵀ `[in, out]` of a weight `[out, in…]`, recomputed when the parameter's value changed
/// (`Parameter.version`), for the event-driven products of the steps.
final class TransposedWeight {
    let parameter: Parameter
    let rows: Int, columns: Int
    let transposed: StepBuffer
    private var version = -1
    init(_ parameter: Parameter) {
        self.parameter = parameter
        rows = parameter.value.shape[0]
        columns = parameter.value.count / rows
        transposed = StepBuffer(rows * columns)
    }
    /// Wᵀ, current with the parameter.
    var pointer: UnsafePointer<Float> {
        if version != parameter.version {
            parameter.value.withPointer { SpikeMatmul.transpose($0, rows: rows, columns: columns, into: transposed.pointer) }
            version = parameter.version
        }
        return UnsafePointer(transposed.pointer)
    }
}

/// `y (+)= x·Wᵀ` for `rows` rows, event-driven over the nonzero inputs (`SpikeMatmul`).
// x [rows, in] → y [rows, out] (accumulated)
func accumulateEventDriven(_ x: UnsafePointer<Float>, rows: Int, weight: TransposedWeight, into y: UnsafeMutablePointer<Float>) {
    SpikeMatmul.accumulateForward(x: x, rows: rows, inFeatures: weight.columns, weightTransposed: weight.pointer,
                                  outFeatures: weight.rows, y: y)
}
