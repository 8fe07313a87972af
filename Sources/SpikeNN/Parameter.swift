import SpikeTensor

/// A trainable tensor with its gradient and its checkpoint name (PyTorch convention, e.g.
/// `"visual.conv1.weight"`). `grad` has the same shape as `value` and starts at 0; layers'
/// `backward` ACCUMULATES into it, `Adam.zeroGradients()` clears it.
public final class Parameter {
    public let name: String
    /// The value; every change (assignment or in-place update) bumps `version`.
    public var value: Tensor { didSet { version &+= 1 } }
    public var grad: Tensor
    /// Counts changes of `value`, so derived data (a step's cached Wᵀ) knows when it is stale.
    public private(set) var version = 0

    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
        self.grad = Tensor(zeros: value.shape)
    }

    /// PyTorch's default init for Linear/Conv2d weights and biases: each element uniform in
    /// [−1/√fanIn, 1/√fanIn), drawn in row-major order from `rng`.
    public static func uniform(name: String, shape: [Int], fanIn: Int, rng: inout SeededGenerator) -> Parameter {
        let bound = 1 / Float(fanIn).squareRoot()
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count { values[i] = rng.nextUniform(-bound, bound) }
        return Parameter(name: name, value: Tensor(shape: shape, scalars: values))
    }
}
