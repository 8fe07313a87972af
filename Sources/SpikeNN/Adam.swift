import SpikeTensor

/// Errors loading optimiser state.
public enum AdamStateError: Error, CustomStringConvertible, Equatable {
    case missingTensor(name: String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    case invalidStepCount(Int)

    public var description: String {
        switch self {
        case .missingTensor(let name): return "Adam state: tensor \"\(name)\" is missing"
        case .shapeMismatch(let name, let expected, let found):
            return "Adam state: tensor \"\(name)\" has shape \(found), expected \(expected)"
        case .invalidStepCount(let n): return "Adam state: step count \(n) is negative"
        }
    }
}

/// Adam with PyTorch's semantics (`torch.optim.Adam`, no weight decay, no amsgrad):
///
///     m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²,   t ← t + 1
///     p ← p − lr · m̂ / (√v̂ + ε),   m̂ = m/(1 − β1ᵗ),  v̂ = v/(1 − β2ᵗ)
///
/// evaluated in PyTorch's order: `p −= (lr/(1 − β1ᵗ)) · m / (√v/√(1 − β2ᵗ) + ε)`.
///
/// `learningRateScales[i]` multiplies lr for parameter i (PyTorch's parameter groups with
/// their own `lr`); all 1 by default.
public final class Adam {
    public let parameters: [Parameter]
    public var learningRate: Float
    public var learningRateScales: [Float]
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public private(set) var stepCount: Int = 0
    private var m: [[Float]]
    private var v: [[Float]]

    public init(parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        learningRateScales = [Float](repeating: 1, count: parameters.count)
        m = parameters.map { [Float](repeating: 0, count: $0.value.count) }
        v = m
    }

    /// One update of every parameter from its `grad`.
    public func step() {
        stepCount += 1
        // Scalars in Double, as PyTorch computes them in Python floats.
        var beta1Power = 1.0, beta2Power = 1.0
        for _ in 0..<stepCount { beta1Power *= Double(beta1); beta2Power *= Double(beta2) }
        let stepSize = Float(Double(learningRate) / (1 - beta1Power))
        let biasCorrection2Sqrt = Float((1 - beta2Power).squareRoot())
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        for (index, parameter) in parameters.enumerated() {
            let count = parameter.value.count
            let stepSize = stepSize * learningRateScales[index]
            parameter.grad.withPointer { g in
                parameter.value.withMutablePointer { p in
                    m[index].withUnsafeMutableBufferPointer { mBuf in
                        v[index].withUnsafeMutableBufferPointer { vBuf in
                            let mp = mBuf.baseAddress!, vp = vBuf.baseAddress!
                            // Elementwise and independent: split across cores (bit-identical to serial).
                            Parallel.forEachChunk(count, minimumChunk: 65_536) { range in
                                for i in range {
                                    let gi = g[i]
                                    mp[i] = b1 * mp[i] + (1 - b1) * gi
                                    vp[i] = b2 * vp[i] + (1 - b2) * gi * gi
                                    let denom = vp[i].squareRoot() / biasCorrection2Sqrt + eps
                                    p[i] -= stepSize * mp[i] / denom
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Sets every parameter's grad to 0 (keeping its storage).
    public func zeroGradients() {
        for parameter in parameters { parameter.grad.zero() }
    }

    /// Optimiser state for checkpoints: "adam.m.<param name>", "adam.v.<param name>" tensors.
    public func stateTensors() -> [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = []
        for (index, parameter) in parameters.enumerated() {
            out.append(("adam.m." + parameter.name, Tensor(shape: parameter.value.shape, scalars: m[index])))
            out.append(("adam.v." + parameter.name, Tensor(shape: parameter.value.shape, scalars: v[index])))
        }
        return out
    }

    /// Restores the state written by `stateTensors()`; throws `AdamStateError` naming the first
    /// missing or misshaped tensor (and changes nothing then).
    public func loadState(_ tensors: [String: Tensor], stepCount: Int) throws {
        guard stepCount >= 0 else { throw AdamStateError.invalidStepCount(stepCount) }
        var newM: [[Float]] = [], newV: [[Float]] = []
        for parameter in parameters {
            for (prefix, isM) in [("adam.m.", true), ("adam.v.", false)] {
                let name = prefix + parameter.name
                guard let tensor = tensors[name] else { throw AdamStateError.missingTensor(name: name) }
                guard tensor.shape == parameter.value.shape else {
                    throw AdamStateError.shapeMismatch(name: name, expected: parameter.value.shape, found: tensor.shape)
                }
                if isM { newM.append(tensor.scalars) } else { newV.append(tensor.scalars) }
            }
        }
        m = newM
        v = newV
        self.stepCount = stepCount
    }
}
