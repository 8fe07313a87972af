import SpikeTensor

/// Writing a description in Swift: plain initialisers, layers in an array literal.
///
/// ```swift
/// let eye = BranchDescription("visual", .dvs, shape: [2, 32, 32], neuron: NeuronDescription(tau: 0.2), layers: [
///     .conv2d("conv1", channels: 16, kernel: 5, stride: 2, padding: 2), .lif(),
///     .maxPool2d(2),
///     .conv2d("conv2", channels: 32, kernel: 3, padding: 1), .lif(),
///     .avgPool2d(2),
///     .flatten,
///     .recurrent("rec", features: 128),
///     .linear("out", features: 10), .lif(),
/// ])
/// let network = NetworkDescription(name: "mine", timesteps: 32, classes: 10, branches: [eye])
/// ```
extension BranchDescription {
    public init(_ name: String, _ modality: InputModality, shape: [Int], neuron: NeuronDescription,
                layers: [LayerDescription]) {
        self.init(name: name, input: InputDescription(modality: modality, shape: shape), neuron: neuron, layers: layers)
    }
}

extension LayerDescription {
    /// A convolution (stride 1 and no padding unless given).
    public static func conv2d(_ name: String, channels: Int, kernel: Int, stride: Int = 1, padding: Int = 0) -> Self {
        .conv2d(name: name, channels: channels, kernel: kernel, stride: stride, padding: padding)
    }
    public static func linear(_ name: String, features: Int) -> Self { .linear(name: name, features: features) }
    /// A recurrent spiking layer with the branch's neuron unless given.
    public static func recurrent(_ name: String, features: Int, neuron: NeuronDescription? = nil) -> Self {
        .recurrent(name: name, features: features, neuron: neuron)
    }
    /// LIF neurons with the branch's constants.
    public static func lif() -> Self { .lif(nil) }
    public static func avgPool2d(_ kernel: Int) -> Self { .avgPool2d(kernel: kernel) }
    public static func maxPool2d(_ kernel: Int) -> Self { .maxPool2d(kernel: kernel) }
    public static func sumPool2d(_ kernel: Int) -> Self { .sumPool2d(kernel: kernel) }
    /// Dropout with one mask per sample over all time steps, in training only.
    public static func dropout(_ rate: Float) -> Self { .dropout(rate: rate) }
}
