/// A small generated audiovisual task for tests and quick runs, made on the fly and
/// deterministic from `(seed, split, index)`.
///
/// Visual: each class has a fixed prototype — a random set of pixels in the `S×S` frame,
/// split over the polarity channels — that drifts one pixel every `T/4` steps with a
/// per-sample offset; each prototype pixel fires with probability `signalRate` per step,
/// every pixel with probability `noiseRate`. Audio: each class has a fixed sequence of
/// four frequency bands (one per quarter of the recording); channels in the current band
/// fire with probability `signalRate`, all with `noiseRate`.
///
/// A modality is *uninformative* in a sample when its events are pure noise at
/// `uninformativeRate` (a broken sensor). `visualOnlyFraction` of the samples have an
/// uninformative audio part, `audioOnlyFraction` an uninformative visual part: the
/// situation the paper's attention mechanism is for.
public struct SyntheticDatasetConfiguration: Codable, Sendable, Equatable {
    public var trainCount = 512
    public var testCount = 256
    public var seed: UInt64 = 7
    public var timesteps = 16
    public var imageSize = 12
    public var polarities = 2
    public var audioChannels = 16
    public var classes = 10
    /// Pixels per class prototype.
    public var prototypePixels = 20
    public var signalRate: Float = 0.7
    public var noiseRate: Float = 0.02
    public var uninformativeRate: Float = 0.1
    public var visualOnlyFraction: Double = 0
    public var audioOnlyFraction: Double = 0

    public init() {}
}

/// Which modalities carry the label in a synthetic sample.
public enum Informativeness: Int, Sendable { case both, visualOnly, audioOnly }

public struct SyntheticDataset: AudioVisualDataset {
    public let configuration: SyntheticDatasetConfiguration
    public let split: Split
    /// `[class][k]` = (channel, y, x) of prototype pixel k.
    private let prototypes: [[(Int, Int, Int)]]
    /// `[class][quarter]` = first channel of the active band.
    private let bands: [[Int]]

    public init(_ configuration: SyntheticDatasetConfiguration, split: Split) {
        self.configuration = configuration
        self.split = split
        var rng = SeededGenerator(seed: configuration.seed)
        let c = configuration
        prototypes = (0..<c.classes).map { _ in
            (0..<c.prototypePixels).map { _ in
                (rng.nextInt(below: c.polarities), rng.nextInt(below: c.imageSize), rng.nextInt(below: c.imageSize))
            }
        }
        let bandWidth = max(1, c.audioChannels / 4)
        bands = (0..<c.classes).map { _ in
            (0..<4).map { _ in rng.nextInt(below: c.audioChannels - bandWidth + 1) }
        }
    }

    public var count: Int { split == .train ? configuration.trainCount : configuration.testCount }
    public var classCount: Int { configuration.classes }
    public var visualShape: [Int] {
        [configuration.timesteps, configuration.polarities, configuration.imageSize, configuration.imageSize]
    }
    public var audioShape: [Int] { [configuration.timesteps, configuration.audioChannels] }

    public func label(_ index: Int) -> Int { index % configuration.classes }

    /// The generator of sample `index` (independent of every other sample).
    private func generator(_ index: Int) -> SeededGenerator {
        let splitSalt: UInt64 = split == .train ? 0x1111 : 0x7777
        return SeededGenerator(seed: configuration.seed &* 0x9E37_79B9 &+ splitSalt &* 1_000_003 &+ UInt64(index))
    }

    /// Which modalities carry the label in sample `index`.
    public func informativeness(_ index: Int) -> Informativeness {
        var rng = generator(index)
        let u = rng.nextDouble()
        if u < configuration.visualOnlyFraction { return .visualOnly }
        if u < configuration.visualOnlyFraction + configuration.audioOnlyFraction { return .audioOnly }
        return .both
    }

    public func sample(_ index: Int) throws -> AudioVisualSample {
        let c = configuration
        var rng = generator(index)
        _ = rng.nextDouble()   // the informativeness draw (see informativeness(_:))
        let kind = informativeness(index)
        let label = self.label(index)
        let t = c.timesteps, s = c.imageSize, p = c.polarities
        var visual = Tensor(zeros: [t, p, s, s])
        var audio = Tensor(zeros: [t, c.audioChannels])
        let visualNoise = kind == .audioOnly ? c.uninformativeRate : c.noiseRate
        let audioNoise = kind == .visualOnly ? c.uninformativeRate : c.noiseRate
        let dx = rng.nextInt(below: 3) - 1, dy = rng.nextInt(below: 3) - 1
        let quarter = max(1, t / 4)
        let bandWidth = max(1, c.audioChannels / 4)
        for step in 0..<t {
            let drift = step / quarter
            for ch in 0..<p {
                for y in 0..<s {
                    for x in 0..<s where rng.nextUniform() < visualNoise {
                        visual[flat: ((step * p + ch) * s + y) * s + x] = 1
                    }
                }
            }
            if kind != .audioOnly {
                for (ch, y0, x0) in prototypes[label] where rng.nextUniform() < c.signalRate {
                    let y = y0 + dy, x = x0 + dx + drift - 2
                    if y >= 0, y < s, x >= 0, x < s { visual[flat: ((step * p + ch) * s + y) * s + x] = 1 }
                }
            }
            for ch in 0..<c.audioChannels where rng.nextUniform() < audioNoise {
                audio[flat: step * c.audioChannels + ch] = 1
            }
            if kind != .visualOnly {
                let first = bands[label][min(3, step / quarter)]
                for ch in first..<(first + bandWidth) where rng.nextUniform() < c.signalRate {
                    audio[flat: step * c.audioChannels + ch] = 1
                }
            }
        }
        return AudioVisualSample(visual: visual, audio: audio, label: label)
    }

    /// A model configuration whose input sizes fit this dataset (small layers for speed).
    public func modelConfiguration(mode: TrainingMode) -> ModelConfiguration {
        var m = ModelConfiguration()
        m.mode = mode
        m.timesteps = configuration.timesteps
        m.polarities = configuration.polarities
        m.imageSize = configuration.imageSize
        m.audioChannels = configuration.audioChannels
        m.classes = configuration.classes
        m.visualChannels = [8, 8]
        m.visualHidden = 32
        m.audioHidden = 48
        m.fusionHidden = 16
        return m
    }
}
