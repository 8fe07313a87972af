import SpikeTensor

/// Flattens all dims after `[T, B]`: `[T, B, d1, d2, …]` → `[T, B, d1·d2·…]` (row-major, no copy).
public final class Flatten: Layer {
    public var needsInputGradient = true
    public var parameters: [Parameter] { [] }
    private var inputShape: [Int] = []

    public init() {}

    /// One step: the same floats, one sample's shape flattened.
    public func makeStep(batch: Int, inputShape: [Int]) -> LayerStep { FlattenStep(inputShape) }

    public func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank >= 2, "Flatten: input must be [T, B, …], got \(input.shape)")
        inputShape = input.shape
        return input.reshaped([input.shape[0], input.shape[1], input.shape.dropFirst(2).reduce(1, *)])
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard needsInputGradient else { return emptyGradient }
        return gradOutput.reshaped(inputShape)
    }
}

/// The step of `Flatten`: passes its input through; only the shape changes.
final class FlattenStep: LayerStep {
    let outputShape: [Int]
    init(_ inputShape: [Int]) { outputShape = [inputShape.reduce(1, *)] }
    func step(_ input: UnsafePointer<Float>) -> UnsafePointer<Float> { input }
    func reset() {}
}
