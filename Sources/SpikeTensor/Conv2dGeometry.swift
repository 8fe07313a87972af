/// Shapes of a 2-D convolution over a batch of images (NCHW, square kernel).
///
/// `outputHeight = (height + 2·padding − kernelSize) / stride + 1` (floor), as in PyTorch.
public struct Conv2dGeometry: Sendable, Equatable {
    public var inChannels: Int
    public var outChannels: Int
    public var height: Int
    public var width: Int
    public var kernelSize: Int
    public var stride: Int
    public var padding: Int

    public init(inChannels: Int, outChannels: Int, height: Int, width: Int,
                kernelSize: Int, stride: Int = 1, padding: Int = 0) {
        precondition(inChannels > 0 && outChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
                     "invalid conv geometry")
        precondition(height + 2 * padding >= kernelSize && width + 2 * padding >= kernelSize,
                     "kernel \(kernelSize) larger than padded input \(height)×\(width)")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.height = height
        self.width = width
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
    }

    public var outputHeight: Int { (height + 2 * padding - kernelSize) / stride + 1 }
    public var outputWidth: Int { (width + 2 * padding - kernelSize) / stride + 1 }
    /// Output pixels per channel, `Ho·Wo`.
    public var outputPixels: Int { outputHeight * outputWidth }
    /// Rows of the im2col matrix, `C·k·k` (one per weight of an output channel).
    public var patchSize: Int { inChannels * kernelSize * kernelSize }
    public var inputImageSize: Int { inChannels * height * width }
    public var outputImageSize: Int { outChannels * outputPixels }
    public var weightCount: Int { outChannels * patchSize }
}
