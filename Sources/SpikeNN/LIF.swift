import SpikeTensor

/// Multi-step LIF neuron layer (no weights): input current `[T, B, …]` → spikes `[T, B, …]`.
///
/// Runs `LIFKernel.forward` (eqs. 1–4) over all T steps in one scan and `LIFKernel.backward`
/// (STBP, eqs. 8–9, reset path included) in one reverse scan. State starts at u = o = 0 on
/// every `forward` call, so nothing leaks between batches.
public final class LIF: Layer {
    public var neuron: LIFParameters
    public var needsInputGradient = true
    public var parameters: [Parameter] { [] }
    /// Membrane potentials u `[T, B, …]` of the last forward (for inspection and backward).
    public internal(set) var membrane = Tensor(zeros: [0])
    /// false: inference, `forward` keeps no membrane (`membrane` stays empty; see `Layer.savesForBackward`).
    public var savesForBackward = true

    public init(_ parameters: LIFParameters) { self.neuron = parameters }

    /// The step of eqs. 1–4 (`LIFKernel.forwardStep`); `forward` is its scan over T.
    public func makeStep(batch: Int, inputShape: [Int]) -> LayerStep {
        LIFStep(neuron, batch: batch, shape: inputShape)
    }

    // current [T, B, …] → spikes [T, B, …]
    public func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank >= 2, "LIF: input must be [T, B, …], got \(input.shape)")
        let steps = input.shape[0], neurons = input.elementsPerStep, p = neuron
        membrane = Tensor(zeros: [0])   // free the previous step's membrane before allocating
        var u = Tensor(shape: input.shape) { _, _ in }
        let spikes = Tensor(shape: input.shape) { o, _ in
            input.withPointer { i in
                u.withMutablePointer { m in
                    LIFKernel.forward(current: i, membrane: m, spikes: o, steps: steps, neurons: neurons, parameters: p)
                }
            }
        }
        if savesForBackward { membrane = u }
        return spikes
    }

    /// `forward` that reuses the storage of `current` for the membrane (no second `[T, B, …]`
    /// buffer; `LIFKernel.forward` allows membrane to alias current). `current` is left empty.
    /// Same results as `forward(current)`.
    public func forward(consuming current: inout Tensor) -> Tensor {
        precondition(current.rank >= 2, "LIF: input must be [T, B, …], got \(current.shape)")
        let steps = current.shape[0], neurons = current.elementsPerStep, p = neuron
        membrane = Tensor(zeros: [0])
        var u = current
        current = Tensor(zeros: [0])   // u now holds the only reference: written in place
        if !savesForBackward {
            // Inference: no membrane history; the spikes overwrite the currents.
            u.withMutablePointer { LIFKernel.forwardSpikesInPlace($0, steps: steps, neurons: neurons, parameters: p) }
            return u
        }
        let spikes = Tensor(shape: u.shape) { o, _ in
            u.withMutablePointer { m in
                LIFKernel.forward(current: UnsafePointer(m), membrane: m, spikes: o, steps: steps, neurons: neurons, parameters: p)
            }
        }
        if savesForBackward { membrane = u }
        return spikes
    }

    /// `backward` that writes δu over the storage of `gradOutput` (`LIFKernel.backward`
    /// allows the alias) when it is the only reference; `gradOutput` is left empty.
    public func backward(consuming gradOutput: inout Tensor) -> Tensor {
        precondition(savesForBackward, "LIF.backward after an inference forward (savesForBackward == false)")
        precondition(gradOutput.shape == membrane.shape, "LIF: gradOutput \(gradOutput.shape) vs membrane \(membrane.shape)")
        let steps = membrane.shape[0], neurons = membrane.elementsPerStep, p = neuron
        var g = gradOutput
        gradOutput = Tensor(zeros: [0])   // g is now the only reference (unless the caller kept one)
        g.withMutablePointer { d in
            membrane.withPointer { u in
                LIFKernel.backward(gradSpikes: UnsafePointer(d), membrane: u, gradCurrent: d, steps: steps, neurons: neurons, parameters: p)
            }
        }
        return g
    }

    // gradSpikes [T, B, …] → gradCurrent [T, B, …]
    public func backward(_ gradOutput: Tensor) -> Tensor {
        precondition(savesForBackward, "LIF.backward after an inference forward (savesForBackward == false)")
        precondition(gradOutput.shape == membrane.shape, "LIF: gradOutput \(gradOutput.shape) vs membrane \(membrane.shape)")
        let steps = membrane.shape[0], neurons = membrane.elementsPerStep, p = neuron
        return Tensor(shape: membrane.shape) { dI, _ in
            gradOutput.withPointer { g in
                membrane.withPointer { u in
                    LIFKernel.backward(gradSpikes: g, membrane: u, gradCurrent: dI, steps: steps, neurons: neurons, parameters: p)
                }
            }
        }
    }
}
