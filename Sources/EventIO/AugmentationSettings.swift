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
/// | `adrop=P`     | `RandomEventDrop(maximumRate: P)` (audio) | rate drawn in [0, P) per sample |
/// | `ashift=K`    | `RandomChannelShift(maximum: K)` (audio) | whole channels, −K…K |
/// | `acrop=F`     | `RandomSpanCrop(maximumFraction: F)` (audio) | fraction of the span per end, 0 ≤ F < 0.5 |
///
/// The `a…` settings act on the cochlea events of the joint dataset's audio (N-TIDIGITS),
/// the others on DVS events of event-folder datasets; a run whose training set has no
/// such events stops with an error naming the setting.
///
/// `crop` is not a stage of its own: it places `SensorFit`'s last step, the crop of the
/// downsampled region to the input's W × H, at random (`RandomCrop`, drawn first) instead of
/// in the centre; where the region is the input's size it changes nothing.
/// The stages run on a sample's events after they are fitted to the network's input
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
    /// Crop the downsampled region to the input at a random place (`SensorFit`, `RandomCrop`).
    public var crop: Bool?
    /// Audio: largest per-sample event-drop rate (`RandomEventDrop`).
    public var audioDrop: Double?
    /// Audio: largest channel shift (`RandomChannelShift`).
    public var audioShift: Int?
    /// Audio: largest fraction of the span cropped at each end (`RandomSpanCrop`).
    public var audioCrop: Double?

    enum CodingKeys: String, CodingKey {
        case drop, flip, jitter, timeJitter, skew, noise, crop
        case audioDrop = "adrop", audioShift = "ashift", audioCrop = "acrop"
    }

    public init() {}

    /// Parses `name[=value],…`; errors name the part that is wrong and what is allowed.
    public init(parsing text: String) throws {
        func bad(_ why: String) -> DatasetError {
            .badConfiguration("--augment \(text): \(why) (settings: crop, drop=P, flip[=P], jitter=PX, tjitter=US, skew=K, noise=N; audio: adrop=P, ashift=K, acrop=F)")
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
            case "crop":
                guard value == nil else { throw bad("crop takes no value (the input's size is the crop's)") }
                crop = true
            case "noise":
                guard let value, let n = Int(value), (0...UniformNoise.maximumCount).contains(n) else {
                    throw bad("noise needs a whole number of events, got '\(value ?? "")'")
                }
                noise = n
            case "adrop": audioDrop = try number(0...1)
            case "ashift":
                guard let value, let k = Int(value), (0...63).contains(k) else {
                    throw bad("ashift needs a whole number of channels in 0…63, got '\(value ?? "")'")
                }
                audioShift = k
            case "acrop": audioCrop = try number(0...0.49)
            default: throw bad("unknown setting '\(name)'")
            }
        }
        guard !stages.isEmpty || crop == true || !audioStages.isEmpty else { throw bad("no augmentation given") }
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

    /// The audio (cochlea) stages, in the fixed order of the table above.
    public var audioStages: [any CochleaAugmentation] {
        var s: [any CochleaAugmentation] = []
        if let audioDrop { s.append(RandomEventDrop(maximumRate: audioDrop)) }
        if let audioShift { s.append(RandomChannelShift(maximum: audioShift)) }
        if let audioCrop { s.append(RandomSpanCrop(maximumFraction: audioCrop)) }
        return s
    }

    public var audioPipeline: CochleaAugmentationPipeline { CochleaAugmentationPipeline(audioStages) }

    /// The names of the visual (DVS) settings given, and of the audio ones, as in the text.
    public var visualNames: [String] {
        [("crop", crop == true ? 1.0 : nil), ("drop", drop), ("flip", flip), ("jitter", jitter),
         ("tjitter", timeJitter), ("skew", skew), ("noise", noise.map(Double.init))].compactMap { $0.1 == nil ? nil : $0.0 }
    }
    public var audioNames: [String] {
        [("adrop", audioDrop), ("ashift", audioShift.map(Double.init)), ("acrop", audioCrop)].compactMap { $0.1 == nil ? nil : $0.0 }
    }

    /// The settings as `--augment` text, in the fixed order.
    public var description: String {
        func f(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }
        var parts: [String] = []
        if crop == true { parts.append("crop") }
        if let drop { parts.append("drop=\(f(drop))") }
        if let flip { parts.append("flip=\(f(flip))") }
        if let jitter { parts.append("jitter=\(f(jitter))") }
        if let timeJitter { parts.append("tjitter=\(f(timeJitter))") }
        if let skew { parts.append("skew=\(f(skew))") }
        if let noise { parts.append("noise=\(noise)") }
        if let audioDrop { parts.append("adrop=\(f(audioDrop))") }
        if let audioShift { parts.append("ashift=\(audioShift)") }
        if let audioCrop { parts.append("acrop=\(f(audioCrop))") }
        return parts.joined(separator: ",")
    }
}

/// A dataset whose samples are events framed on demand, so they can be augmented before
/// framing (`EventFolderDataset`).
public protocol AugmentableDataset: AudioVisualDataset {
    /// Sample `index`, its events augmented by `augmentation` drawing from
    /// `SeededGenerator(seed:)` before framing. Never read from nor written to a frame cache.
    func sample(_ index: Int, augmentedBy augmentation: AugmentationSettings, seed: UInt64) throws -> AudioVisualSample
    /// Throws, naming the settings, where `augmentation` has settings this data's events cannot
    /// take (audio settings on DVS events, DVS settings on cochlea events); reads nothing.
    func check(_ augmentation: AugmentationSettings) throws
}

/// One epoch's view of an augmentable training set: sample i is augmented with the seed
/// `AugmentationSeed.derive(run: runSeed, epoch: epoch, sample: i)`, i the sample's index in
/// the set (not its place in the shuffled order).
public struct AugmentedEpoch: AudioVisualDataset {
    public let base: any AugmentableDataset
    public let augmentation: AugmentationSettings
    public let runSeed: UInt64
    public let epoch: Int

    public init(_ base: any AugmentableDataset, augmentation: AugmentationSettings, runSeed: UInt64, epoch: Int) {
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
