import SpikeTensor

/// Max pooling, kernel = stride = k (no neuron after it): `[T, B, C, H, W]` →
/// `[T, B, C, H/k, W/k]` (floor, as PyTorch). Each output is its k×k window's maximum
/// (`MaxPool2dKernel`); the backward routes each gradient to the window's first maximum.
public final class MaxPool2d: Layer {
    public let kernelSize: Int
    public var needsInputGradient = true
    public var parameters: [Parameter] { [] }
    public var savesForBackward = true
    private var inputShape: [Int] = []
    /// The forward's chosen element per output (offset within its plane), for backward.
    private var argmax: [Int32] = []

    public init(kernelSize: Int = 2) {
        precondition(kernelSize > 0, "MaxPool2d: kernelSize must be positive")
        self.kernelSize = kernelSize
    }

    /// One step: `[B, C, H, W]` → `[B, C, H/k, W/k]`.
    public func makeStep(batch: Int, inputShape: [Int]) -> LayerStep {
        precondition(inputShape.count == 3 && inputShape[1] >= kernelSize && inputShape[2] >= kernelSize,
                     "MaxPool2d: step input \(inputShape) must be [C, H, W] with H, W ≥ \(kernelSize)")
        return MaxPool2dStep(kernelSize: kernelSize, batch: batch, inputShape: inputShape)
    }

    // input [T, B, C, H, W] → output [T, B, C, H/k, W/k]
    public func forward(_ input: Tensor) -> Tensor {
        let s = input.shape
        precondition(s.count >= 3 && s[s.count - 2] >= kernelSize && s[s.count - 1] >= kernelSize,
                     "MaxPool2d: input \(s) smaller than kernel \(kernelSize)")
        inputShape = s
        let h = s[s.count - 2], w = s[s.count - 1], k = kernelSize
        let planes = input.count / (h * w)
        var chosen = [Int32](repeating: 0, count: savesForBackward ? planes * (h / k) * (w / k) : 0)
        let output = Tensor(shape: Array(s.dropLast(2)) + [h / k, w / k]) { y, _ in
            input.withPointer { x in
                chosen.withUnsafeMutableBufferPointer { a in
                    MaxPool2dKernel.forward(input: x, planes: planes, height: h, width: w, kernelSize: k, output: y,
                                            argmax: a.isEmpty ? nil : a.baseAddress)
                }
            }
        }
        argmax = chosen
        return output
    }

    // gradOutput [T, B, C, H/k, W/k] → gradInput [T, B, C, H, W]
    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard needsInputGradient else { return emptyGradient }
        let s = inputShape
        let h = s[s.count - 2], w = s[s.count - 1], k = kernelSize
        let planes = s.reduce(1, *) / (h * w)
        precondition(gradOutput.count == planes * (h / k) * (w / k) && argmax.count == gradOutput.count,
                     "MaxPool2d: gradOutput \(gradOutput.shape) does not match the training forward")
        return Tensor(shape: s) { dX, _ in
            gradOutput.withPointer { dY in
                argmax.withUnsafeBufferPointer { a in
                    MaxPool2dKernel.backward(gradOutput: dY, argmax: a.baseAddress!, planes: planes, height: h,
                                             width: w, kernelSize: k, gradInput: dX)
                }
            }
        }
    }
}

/// The step of `MaxPool2d` (`MaxPool2dKernel` on the B·C planes of one time bin).
final class MaxPool2dStep: LayerStep {
    let kernelSize: Int, planes: Int, height: Int, width: Int
    let output: StepBuffer
    let outputShape: [Int]
    init(kernelSize: Int, batch: Int, inputShape: [Int]) {
        self.kernelSize = kernelSize
        planes = batch * inputShape[0]; height = inputShape[1]; width = inputShape[2]
        outputShape = [inputShape[0], height / kernelSize, width / kernelSize]
        output = StepBuffer(batch * outputShape.reduce(1, *))
    }
    func step(_ input: UnsafePointer<Float>) -> UnsafePointer<Float> {
        MaxPool2dKernel.forward(input: input, planes: planes, height: height, width: width, kernelSize: kernelSize,
                                output: output.pointer, argmax: nil)
        return UnsafePointer(output.pointer)
    }
    func reset() {}
}
