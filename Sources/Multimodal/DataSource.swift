import Foundation

/// Where a run's data comes from; stored in the run's `config.json` so that
/// `spikefuse evaluate RUN_DIR` can rebuild the same test set.
public enum DataSource: Codable, Sendable, Equatable {
    /// The small generated task of `SyntheticDataset` (tests, quick checks).
    case synthetic(SyntheticDatasetConfiguration)
    /// The paper's joint MNIST-DVS + N-TIDIGITS dataset (real recordings, or the embedded
    /// default set that `spikefuse synth` writes in the same layout).
    case joint(JointDatasetConfiguration)
    /// SHD with its 20 classes or SSC with its 35, audio only (the A-Network), with the files'
    /// own train / test split (`SHDClassDataset`). Visual samples are `[T, 1, 1, 1]` zeros.
    case shd(SHDClassConfiguration)
    /// A folder of event-camera recordings, visual only (the V-Network or a network with only
    /// a dvs branch): DVS128 Gesture, CIFAR10-DVS, N-Caltech101 or N-MNIST, with the folder's
    /// split (`EventFolderDataset`). Audio samples are `[T, 1]` zeros.
    case events(EventFolderConfiguration)

    /// The training and test splits (the joint dataset frames its recordings once, or
    /// loads them from its cache).
    public func datasets() throws -> (train: AudioVisualDataset, test: AudioVisualDataset) {
        switch self {
        case .synthetic(let c):
            return (SyntheticDataset(c, split: .train), SyntheticDataset(c, split: .test))
        case .joint(let c):
            let (train, test) = try JointDataset.load(c)
            for w in train.warnings { warn(w) }
            return (train, test)
        case .shd(let c):
            let (train, test, warnings) = try SHDClassDataset.load(c)
            for w in warnings { warn(w) }
            return (train, test)
        case .events(let c):
            let (train, test, warnings) = try EventFolderDataset.load(c)
            for w in warnings { warn(w) }
            return (train, test)
        }
    }

    /// `[T, P, H, W]` of the visual samples, known without loading any data.
    public var visualShape: [Int] {
        switch self {
        case .synthetic(let c): return [c.timesteps, c.polarities, c.imageSize, c.imageSize]
        case .joint(let c): return c.visualShape
        case .shd(let c): return [c.timesteps, 1, 1, 1]
        case .events(let c): return c.visualShape
        }
    }

    /// `[T, C]` of the audio samples.
    public var audioShape: [Int] {
        switch self {
        case .synthetic(let c): return [c.timesteps, c.audioChannels]
        case .joint(let c): return c.audioShape
        case .shd(let c): return c.audioShape
        case .events(let c): return c.audioShape
        }
    }

    public var classCount: Int {
        switch self {
        case .synthetic(let c): return c.classes
        case .joint: return 10
        case .shd(let c): return c.classes
        case .events(let c): return c.classes
        }
    }

    /// Whether the data has visual samples (SHD and SSC have none).
    public var hasVisual: Bool {
        if case .shd = self { return false }
        return true
    }

    /// Whether the data has audio samples (event-camera folders have none).
    public var hasAudio: Bool {
        if case .events = self { return false }
        return true
    }

    /// Throws, naming why, when `mode` needs visual or audio samples this data does not have.
    public func check(mode: TrainingMode) throws {
        if !hasVisual, mode.usesVisual {
            throw ConfigurationError.invalid("mode \(mode) needs visual data, and \(location) is audio only (no visual data): "
                                             + "train it with --mode audio, or a network with only a cochlea branch")
        }
        if !hasAudio, mode.usesAudio {
            throw ConfigurationError.invalid("mode \(mode) needs audio data, and \(location) is visual only (no audio data): "
                                             + "train it with --mode visual, or a network with only a dvs branch")
        }
    }

    /// `model` with the input sizes this data implies (T, P, image side, channels, classes).
    /// Audio-only data (SHD, SSC) leaves P and the image side as they are (unused in audio mode).
    public func fitting(_ model: ModelConfiguration) -> ModelConfiguration {
        var m = model
        guard hasVisual else {
            m.timesteps = audioShape[0]
            m.audioChannels = audioShape[1]
            m.classes = classCount
            return m
        }
        m.timesteps = visualShape[0]
        m.polarities = visualShape[1]
        m.imageSize = visualShape[2]
        if hasAudio { m.audioChannels = audioShape[1] }
        m.classes = classCount
        return m
    }

    /// This source with an event folder's framing set from `model`'s visual input `[P, H, W]`
    /// and T (T kept when `keepTimesteps`, e.g. given by `--timesteps`); other sources as they
    /// are. An input the data cannot fill is an error naming both shapes (`source` names the model).
    public func fitted(to model: ModelConfiguration, keepTimesteps: Bool, source: String) throws -> DataSource {
        guard case .events(var c) = self, model.mode.usesVisual else { return self }
        do {
            try c.fit(input: model.visualFrameShape, timesteps: model.timesteps, keepTimesteps: keepTimesteps)
        } catch DatasetError.badConfiguration(let reason) {
            throw ConfigurationError.invalid("\(source): \(reason)")
        }
        return .events(c)
    }

    /// Checks that a described network's inputs are what this data gives after framing:
    /// `[T, P, H, W]` for its dvs branch, `[T, N]` for its cochlea branch, and the class count.
    /// The error names both shapes.
    public func check(_ network: NetworkDescription, source: String) throws {
        func mismatch(_ what: String, _ network: [Int], _ data: [Int]) -> ConfigurationError {
            .invalid("\(source): the network's \(what) is \(network), the data gives \(data) after framing "
                     + "(change the network's input, or the framing: --timesteps, --crop, --scale)")
        }
        if !hasVisual, network.branch(.dvs) != nil {
            throw ConfigurationError.invalid("\(source): the network has a dvs branch, and \(location) is audio only (no visual data); "
                                             + "use a network with only a cochlea branch")
        }
        if !hasAudio, network.branch(.cochlea) != nil {
            throw ConfigurationError.invalid("\(source): the network has a cochlea branch, and \(location) is visual only (no audio data); "
                                             + "use a network with only a dvs branch")
        }
        if let v = network.branch(.dvs), [network.timesteps] + v.input.shape != visualShape {
            throw mismatch("dvs input [T, P, H, W]", [network.timesteps] + v.input.shape, visualShape)
        }
        if let a = network.branch(.cochlea), [network.timesteps] + a.input.shape != audioShape {
            throw mismatch("cochlea input [T, N]", [network.timesteps] + a.input.shape, audioShape)
        }
        if network.classes != classCount { throw mismatch("class count", [network.classes], [classCount]) }
    }

    /// Where the data lives, for messages: "synthetic" or the visual and audio paths.
    public var location: String {
        switch self {
        case .synthetic: return "synthetic data"
        case .joint(let c): return "visual \(c.mnistDVSRoot), audio \(c.ntidigitsFile)"
        case .shd(let c): return "\(c.corpus.name) (\(c.classes) classes) in \(c.folder)"
        case .events(let c): return "\(c.kind.name) (\(c.classes) classes) in \(c.folder)"
        }
    }

    /// Whether `other` gives the same samples: equal but for where frames are cached, the
    /// bad-file policy and progress lines, which change no frame.
    public func sameData(as other: DataSource) -> Bool {
        switch (self, other) {
        case (.joint(let a), .joint(let b)): return a.framesEqual(b)
        case (.shd(let a), .shd(let b)): return a.framesEqual(b)
        case (.events(let a), .events(let b)): return a.framesEqual(b)
        default: return self == other
        }
    }

    /// The source as one JSON string (for config.json).
    public func jsonString() -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try! e.encode(self), as: UTF8.self)
    }

    public static func fromJSON(_ text: String, source: String) throws -> DataSource {
        do { return try JSONDecoder().decode(DataSource.self, from: Data(text.utf8)) } catch {
            throw CheckpointError.invalid(source, "data source is not readable: \(error)")
        }
    }
}
