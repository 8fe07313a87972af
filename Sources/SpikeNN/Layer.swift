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
}

extension Layer {
    /// `layer(x)` is `layer.forward(x)`.
    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input) }
}

/// The empty tensor returned by `backward` when `needsInputGradient` is false.
public let emptyGradient = Tensor(zeros: [0])
