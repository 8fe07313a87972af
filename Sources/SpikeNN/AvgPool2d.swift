import SpikeTensor

/// Average pooling, kernel = stride = k (no neuron after it): `[T, B, C, H, W]` →
/// `[T, B, C, H/k, W/k]` (floor, as PyTorch). Each output is the mean of its k×k window, or
/// its sum for sum pooling (`AvgPool2d.sum(kernelSize:)`, NIR's SumPool2d).
public final class AvgPool2d: Layer {
    public let kernelSize: Int
    /// Whether this pools by sums (y = Σ window) instead of means (y = Σ window / k²).
    public let sums: Bool
    /// The factor on each window's sum: 1/k², or 1 for sum pooling.
    var scale: Float { sums ? 1 : 1 / Float(kernelSize * kernelSize) }
    public var needsInputGradient = true
    public var parameters: [Parameter] { [] }
    private var inputShape: [Int] = []

    public init(kernelSize: Int = 2) {
        precondition(kernelSize > 0, "AvgPool2d: kernelSize must be positive")
        self.kernelSize = kernelSize
        sums = false
    }

    /// Sum pooling: each output is the sum of its k×k window.
    public init(sumOver kernelSize: Int) {
        precondition(kernelSize > 0, "AvgPool2d: kernelSize must be positive")
        self.kernelSize = kernelSize
        sums = true
    }

    /// One step: `[B, C, H, W]` → `[B, C, H/k, W/k]`.
    public func makeStep(batch: Int, inputShape: [Int]) -> LayerStep {
        precondition(inputShape.count == 3 && inputShape[1] >= kernelSize && inputShape[2] >= kernelSize,
                     "AvgPool2d: step input \(inputShape) must be [C, H, W] with H, W ≥ \(kernelSize)")
        return AvgPool2dStep(kernelSize: kernelSize, scale: scale, batch: batch, inputShape: inputShape)
    }

    // input [T, B, C, H, W] → output [T, B, C, H/k, W/k]
    public func forward(_ input: Tensor) -> Tensor {
        let s = input.shape
        precondition(s.count >= 3 && s[s.count - 2] >= kernelSize && s[s.count - 1] >= kernelSize,
                     "AvgPool2d: input \(s) smaller than kernel \(kernelSize)")
        inputShape = s
        let h = s[s.count - 2], w = s[s.count - 1], k = kernelSize
        let planes = input.count / (h * w)
        return Tensor(shape: Array(s.dropLast(2)) + [h / k, w / k]) { y, _ in
            input.withPointer { x in
                AvgPool2dKernel.forward(input: x, planes: planes, height: h, width: w, kernelSize: k, output: y, scale: scale)
            }
        }
    }

    // gradOutput [T, B, C, H/k, W/k] → gradInput [T, B, C, H, W]
    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard needsInputGradient else { return emptyGradient }
        let s = inputShape
        let h = s[s.count - 2], w = s[s.count - 1], k = kernelSize
        let planes = s.reduce(1, *) / (h * w)
        precondition(gradOutput.count == planes * (h / k) * (w / k), "AvgPool2d: gradOutput \(gradOutput.shape) does not match forward")
        return Tensor(shape: s) { dX, _ in
            gradOutput.withPointer { dY in
                AvgPool2dKernel.backward(gradOutput: dY, planes: planes, height: h, width: w, kernelSize: k, gradInput: dX,
                                         scale: scale)
            }
        }
    }
}

/// The step of `AvgPool2d` (`AvgPool2dKernel` on the B·C planes of one time bin).
final class AvgPool2dStep: LayerStep {
    let kernelSize: Int, planes: Int, height: Int, width: Int
    let scale: Float
    let output: StepBuffer
    let outputShape: [Int]
    init(kernelSize: Int, scale: Float, batch: Int, inputShape: [Int]) {
        self.kernelSize = kernelSize
        self.scale = scale
        planes = batch * inputShape[0]; height = inputShape[1]; width = inputShape[2]
        outputShape = [inputShape[0], height / kernelSize, width / kernelSize]
        output = StepBuffer(batch * outputShape.reduce(1, *))
    }
    func step(_ input: UnsafePointer<Float>) -> UnsafePointer<Float> {
        AvgPool2dKernel.forward(input: input, planes: planes, height: height, width: width, kernelSize: kernelSize,
                                output: output.pointer, scale: scale)
        return UnsafePointer(output.pointer)
    }
    func reset() {}
}
