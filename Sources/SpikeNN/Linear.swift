import SpikeTensor

/// Affine layer (no neuron): `y = x·Wᵀ + b` on every row, W `[out, in]`, b `[out]`.
///
/// Input `[…, in]` (all leading dimensions, e.g. `[T, B]`, are rows; T·B rows go through one
/// GEMM, or the event-driven kernel for sparse spike input, see `kernel`) → output `[…, out]`.
/// Parameters `"<name>.weight"` `[out, in]` then `"<name>.bias"` `[out]`, both uniform in
/// ±1/√in (PyTorch's default), drawn from `rng` in that order.
public final class Linear: Layer {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter
    public var needsInputGradient = true
    /// Dense GEMM or event-driven product (default: automatic by input density).
    public var kernel = SynapticKernel.standard
    public var parameters: [Parameter] { [weight, bias] }
    /// false: inference, `forward` keeps no input for `backward` (see `Layer.savesForBackward`).
    public var savesForBackward = true

    /// Keep a spike input (all 0/1) bit-packed for backward, 1 bit per element (`SavedInput`);
    /// false keeps it as Float32 (the oracle of the packed path in the tests).
    var packsSavedSpikes = true

    private var saved = SavedInput()
    /// Bytes of input kept for backward by the last forward.
    var savedInputByteCount: Int { saved.byteCount }
    private var savedSparse = false
    private var map: AffineMap

    public init(name: String, inFeatures: Int, outFeatures: Int, rng: inout SeededGenerator) {
        precondition(inFeatures > 0 && outFeatures > 0, "Linear \(name): sizes must be positive")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Parameter.uniform(name: name + ".weight", shape: [outFeatures, inFeatures], fanIn: inFeatures, rng: &rng)
        bias = Parameter.uniform(name: name + ".bias", shape: [outFeatures], fanIn: inFeatures, rng: &rng)
        map = AffineMap(inFeatures: inFeatures, outFeatures: outFeatures)
    }

    /// One step: `y[t] = b + W·x[t]` for B rows, event-driven over the nonzero inputs.
    public func makeStep(batch: Int, inputShape: [Int]) -> LayerStep {
        precondition(inputShape == [inFeatures], "Linear: step input \(inputShape), expected [\(inFeatures)]")
        return LinearStep(weight: weight, bias: bias, batch: batch)
    }

    // input [rows…, in] → output [rows…, out]
    public func forward(_ input: Tensor) -> Tensor {
        precondition(input.shape.last == inFeatures, "Linear: input \(input.shape), expected last dim \(inFeatures)")
        saved = SavedInput(input, keep: savesForBackward, pack: packsSavedSpikes)
        let rows = input.count / inFeatures
        var shape = input.shape
        shape[shape.count - 1] = outFeatures
        let sparse = input.withPointer { kernel.useSparse($0, count: input.count) }
        savedSparse = sparse
        if sparse { weight.value.withPointer { map.prepareSparse(weight: $0) } }
        return Tensor(shape: shape) { y, _ in
            input.withPointer { x in
                weight.value.withPointer { w in
                    bias.value.withPointer { b in
                        map.forward(x: x, rows: rows, weight: w, bias: b, accumulate: false, sparse: sparse, y: y)
                    }
                }
            }
        }
    }

    // gradOutput [rows…, out] → gradInput [rows…, in]; accumulates weight/bias grads
    public func backward(_ gradOutput: Tensor) -> Tensor {
        precondition(savesForBackward, "Linear.backward after an inference forward (savesForBackward == false)")
        let savedInput = saved.tensor()
        let rows = savedInput.count / inFeatures
        precondition(gradOutput.count == rows * outFeatures, "Linear: gradOutput \(gradOutput.shape) does not match forward")
        return map.backward(x: savedInput, gradOutput: gradOutput, rows: rows, weight: weight, bias: bias,
                            sparseInput: savedSparse, kernel: kernel, needsInputGradient: needsInputGradient)
    }
}

/// The step of `Linear` (and the input part of `RecurrentSpikingLinear`'s):
/// x[t] [B, in] → y[t] [B, out] = b + x[t]·Wᵀ.
final class LinearStep: LayerStep {
    let weight: TransposedWeight
    let bias: Parameter?
    let batch: Int
    let output: StepBuffer
    var outputShape: [Int] { [weight.rows] }
    init(weight: Parameter, bias: Parameter?, batch: Int) {
        self.weight = TransposedWeight(weight)
        self.bias = bias
        self.batch = batch
        output = StepBuffer(batch * self.weight.rows)
    }
    /// y [B, out] = b (or 0) + x [B, in]·Wᵀ
    func apply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        let outF = weight.rows
        if let bias {
            bias.value.withPointer { b in for r in 0..<batch { (y + r * outF).update(from: b, count: outF) } }
        } else {
            y.update(repeating: 0, count: batch * outF)
        }
        accumulateEventDriven(x, rows: batch, weight: weight, into: y)
    }
    func step(_ input: UnsafePointer<Float>) -> UnsafePointer<Float> {
        apply(input, into: output.pointer)
        return UnsafePointer(output.pointer)
    }
    func reset() {}
}
