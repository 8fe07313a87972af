import SpikeTensor

/// A multi-step layer: time-major input `[T, B, …in]` → output `[T, B, …out]`.
///
/// `forward` keeps what `backward` needs (the last input, the membrane potentials); call
/// `backward` once after each `forward`. Layers are thin wrappers over pure kernels
/// (`LIFKernel`, `Conv2dKernel`, `BLAS.gemm`, `AvgPool2dKernel`), so a kernel can be swapped
/// (e.g. an event-driven sparse one) without touching the models.
public protocol Layer: AnyObject {
    /// All parameters (of sublayers too), each with its full checkpoint name, e.g. "visual.conv1.weight".
    var parameters: [Parameter] { get }
    /// When false, backward may skip computing dL/d(input) and return an empty tensor (first layer).
    var needsInputGradient: Bool { get set }
    /// Multi-step forward: input [T, B, …in] → output [T, B, …out]; keeps what backward needs.
    func forward(_ input: Tensor) -> Tensor
    /// dL/d(output) [T, B, …out] → dL/d(input) [T, B, …in]; ACCUMULATES (+=) into each parameter's grad.
    func backward(_ gradOutput: Tensor) -> Tensor
    /// Training mode (default true): `forward` keeps what `backward` needs (inputs, membranes).
    /// Set to false for inference: `forward` keeps nothing (lower peak memory, no stale
    /// activations held between batches), and `backward` must not be called. Layers without
    /// saved state ignore it (the default implementation).
    var savesForBackward: Bool { get set }
    /// `backward` that may reuse the storage of `gradOutput` for its result (left empty or
    /// unchanged); lowers the peak memory of a backward pass. Default: `backward(gradOutput)`.
    func backward(consuming gradOutput: inout Tensor) -> Tensor
    /// The layer's single time step (`LayerStep`) for `batch` streams of samples shaped
    /// `inputShape` (without T and B). `forward` over `[T, B, …]` equals scanning it from reset.
    func makeStep(batch: Int, inputShape: [Int]) -> LayerStep
    /// The layers it runs one after the other, one per item of its description (a synapse and
    /// its neurons: two), so that a profiler can time them apart; `[self]` for a layer of one
    /// item (the default).
    var parts: [Layer] { get }
}

extension Layer {
    public func backward(consuming gradOutput: inout Tensor) -> Tensor { backward(gradOutput) }

    public var parts: [Layer] { [self] }

    public var savesForBackward: Bool {
        get { true }
        set {}
    }
}

extension Layer {
    /// `layer(x)` is `layer.forward(x)`.
    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input) }
}

/// The empty tensor returned by `backward` when `needsInputGradient` is false.
public let emptyGradient = Tensor(zeros: [0])
