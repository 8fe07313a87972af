import Foundation

/// The event augmentations of a training run, as `train --augment` gives them and a run's
/// `config.json` records them (under "training"), e.g. `drop=0.1,flip,jitter=1,noise=100`.
///
/// Each setting, when present, adds one stage; the stages always run in this order, whatever
/// the order of the text (so one recorded setting is one pipeline):
///
/// | text          | stage                                   | unit |
/// |---------------|-----------------------------------------|------|
/// | `drop=P`      | `DropEvents(probability: P)`            | probability 0…1 |
/// | `flip[=P]`    | `RandomHorizontalFlip(probability: P)`  | probability, 0.5 when left out |
/// | `jitter=S`    | `SpatialJitter(sigma: S)` (off-input events dropped) | pixels of the network's input |
/// | `tjitter=S`   | `TimeJitter(sigmaMicroseconds: S)`      | µs |
/// | `skew=K`      | `RandomTimeSkew(coefficients: 1−K…1+K)` | 0 ≤ K < 1 |
/// | `noise=N`     | `UniformNoise(count: N)`                | events per sample |
///
/// Augmentations run on a sample's events after they are fitted to the network's input
/// (`SensorFit`), so pixels are the input's pixels whatever the sensor, and before framing.
/// Sample i of epoch e in a run seeded s draws from `AugmentationSeed.derive(run: s, epoch: e,
/// sample: i)`: the same seed gives the same augmented samples, and a resumed run the same as
/// an uninterrupted one.
public struct AugmentationSettings: Codable, Sendable, Hashable, CustomStringConvertible {
    public var drop: Double?
    public var flip: Double?
    public var jitter: Double?
    public var timeJitter: Double?
    public var skew: Double?
    public var noise: Int?

    public init() {}

    /// Parses `name[=value],…`; errors name the part that is wrong and what is allowed.
    public init(parsing text: String) throws {
        func bad(_ why: String) -> DatasetError {
            .badConfiguration("--augment \(text): \(why) (settings: drop=P, flip[=P], jitter=PX, tjitter=US, skew=K, noise=N)")
        }
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            let name = pair[0], value = pair.count > 1 ? pair[1] : nil
            func number(_ range: ClosedRange<Double>) throws -> Double {
                guard let value, let v = Double(value), v.isFinite, range.contains(v) else {
                    throw bad("\(name) needs a number in \(range.lowerBound)…\(range.upperBound), got '\(value ?? "")'")
                }
                return v
            }
            switch name {
            case "drop": drop = try number(0...1)
            case "flip":
                if value == nil { flip = 0.5 } else { flip = try number(0...1) }
            case "jitter": jitter = try number(0...1e6)
            case "tjitter": timeJitter = try number(0...1e12)
            case "skew": skew = try number(0...0.999)
            case "noise":
                guard let value, let n = Int(value), (0...UniformNoise.maximumCount).contains(n) else {
                    throw bad("noise needs a whole number of events, got '\(value ?? "")'")
                }
                noise = n
            default: throw bad("unknown setting '\(name)'")
            }
        }
        guard !stages.isEmpty else { throw bad("no augmentation given") }
    }

    /// The stages, in the fixed order of the table above.
    public var stages: [any DVSAugmentation] {
        var s: [any DVSAugmentation] = []
        if let drop { s.append(DropEvents(probability: drop)) }
        if let flip { s.append(RandomHorizontalFlip(probability: flip)) }
        if let jitter { s.append(SpatialJitter(sigma: jitter)) }
        if let timeJitter { s.append(TimeJitter(sigmaMicroseconds: timeJitter)) }
        if let skew { s.append(RandomTimeSkew(coefficients: (1 - skew)...(1 + skew))) }
        if let noise { s.append(UniformNoise(count: noise)) }
        return s
    }

    public var pipeline: AugmentationPipeline { AugmentationPipeline(stages) }

    /// The settings as `--augment` text, in the fixed order.
    public var description: String {
        func f(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }
        var parts: [String] = []
        if let drop { parts.append("drop=\(f(drop))") }
        if let flip { parts.append("flip=\(f(flip))") }
        if let jitter { parts.append("jitter=\(f(jitter))") }
        if let timeJitter { parts.append("tjitter=\(f(timeJitter))") }
        if let skew { parts.append("skew=\(f(skew))") }
        if let noise { parts.append("noise=\(noise)") }
        return parts.joined(separator: ",")
    }
}

/// A dataset whose samples are events framed on demand, so they can be augmented before
/// framing (`EventFolderDataset`).
public protocol AugmentableDataset: AudioVisualDataset {
    /// Sample `index`, its events run through `augmentation` with `SeededGenerator(seed:)`
    /// before framing. Never read from nor written to a frame cache.
    func sample(_ index: Int, augmentedBy augmentation: AugmentationPipeline, seed: UInt64) throws -> AudioVisualSample
}

/// One epoch's view of an augmentable training set: sample i is augmented with the seed
/// `AugmentationSeed.derive(run: runSeed, epoch: epoch, sample: i)`, i the sample's index in
/// the set (not its place in the shuffled order).
public struct AugmentedEpoch: AudioVisualDataset {
    public let base: any AugmentableDataset
    public let augmentation: AugmentationPipeline
    public let runSeed: UInt64
    public let epoch: Int

    public init(_ base: any AugmentableDataset, augmentation: AugmentationPipeline, runSeed: UInt64, epoch: Int) {
        self.base = base; self.augmentation = augmentation; self.runSeed = runSeed; self.epoch = epoch
    }

    public var count: Int { base.count }
    public var classCount: Int { base.classCount }
    public var visualShape: [Int] { base.visualShape }
    public var audioShape: [Int] { base.audioShape }
    public func label(_ index: Int) -> Int { base.label(index) }
    public func sample(_ index: Int) throws -> AudioVisualSample {
        try base.sample(index, augmentedBy: augmentation,
                        seed: AugmentationSeed.derive(run: runSeed, epoch: epoch, sample: index))
    }
}
