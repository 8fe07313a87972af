import Foundation

/// Optimisation settings. The paper gives lr = 1e-3 (Adam); batch size and epochs are
/// not given — defaults chosen in docs/model.md.
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    /// 40: on 500 held-out-speaker recordings the A-Network was still rising after 20 epochs
    /// (320 Adam steps) and gained 3–7 points from 40 (docs/results.md, issue 43); on the
    /// 5,000-pair stand-in it levels off after about 25.
    public var epochs = 40
    public var batchSize = 32
    public var learningRate: Float = 1e-3
    /// How the learning rate changes over the epochs. Cosine annealing from `learningRate` by
    /// default, a departure from the paper's constant rate (docs/model.md): at a constant 1e-3
    /// the auditory network's test accuracy swings by up to 10 points from epoch to epoch.
    /// config.json files written before the default changed read as constant (as they trained).
    public var learningRateSchedule: LearningRateSchedule = .cosine
    /// Seeds weight initialisation and the per-epoch shuffle.
    public var seed: UInt64 = 1
    /// Checkpoints kept in the run directory (older ones are deleted); at least 1.
    public var keepCheckpoints = 3
    /// Train on at most this many samples per epoch (nil = all), for quick runs.
    public var trainLimit: Int?
    /// Evaluate on at most this many test samples (nil = all).
    public var testLimit: Int?
    /// Every batch is cut into this many shards (contiguous, sizes differing by at most one);
    /// each shard's gradient is computed on its own and the shards' gradients are summed in one
    /// fixed binary tree (`PairwiseSum`, then `FixedOrderSum` across ranks). So a run on N
    /// ranks (N a power of two dividing this) gives weights bit-identical to one process.
    /// A power of two. 4 by default (1, 2 or 4 ranks); config.json files written before
    /// the setting existed read as 1 (the whole batch at once, as those runs trained).
    public var gradientShards = 4
    /// Event augmentations applied to every training sample before framing, seeded per run
    /// (`seed`), epoch and sample (`AugmentationSettings`, `AugmentedEpoch`); nil: none. Needs
    /// a training set whose samples are events (`AugmentableDataset`). Test samples are never
    /// augmented. Absent from config.json files written before it existed (read as nil).
    public var augmentation: AugmentationSettings?
    public init() {}

    enum CodingKeys: String, CodingKey {
        case epochs, batchSize, learningRate, learningRateSchedule, seed, keepCheckpoints
        case trainLimit, testLimit, gradientShards, augmentation
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epochs = try c.decode(Int.self, forKey: .epochs)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        learningRate = try c.decode(Float.self, forKey: .learningRate)
        learningRateSchedule = try c.decodeIfPresent(LearningRateSchedule.self, forKey: .learningRateSchedule) ?? .constant
        seed = try c.decode(UInt64.self, forKey: .seed)
        keepCheckpoints = try c.decode(Int.self, forKey: .keepCheckpoints)
        trainLimit = try c.decodeIfPresent(Int.self, forKey: .trainLimit)
        testLimit = try c.decodeIfPresent(Int.self, forKey: .testLimit)
        gradientShards = try c.decodeIfPresent(Int.self, forKey: .gradientShards) ?? 1
        augmentation = try c.decodeIfPresent(AugmentationSettings.self, forKey: .augmentation)
    }

    /// Shard `j`'s positions in a batch of `count` samples: `count·j/S ..< count·(j+1)/S`.
    public func shard(_ j: Int, ofBatch count: Int) -> Range<Int> {
        contiguousBlock(j, of: gradientShards, count: count)
    }
}

/// Learning rate per epoch. `cosine` is PyTorch's `CosineAnnealingLR(T_max = E, eta_min = 0)`
/// stepped once per epoch: epoch e (1…E) uses lr·½·(1 + cos(π·(e − 1)/E)), so the first epoch
/// runs at the full rate and the last at a small fraction of it.
public enum LearningRateSchedule: String, Codable, Sendable {
    case constant
    case cosine

    /// The factor applied to every learning rate in `epoch` (1-based) of `epochs`.
    public func factor(epoch: Int, of epochs: Int) -> Float {
        switch self {
        case .constant: return 1
        case .cosine: return Float(0.5 * (1 + cos(Double.pi * Double(epoch - 1) / Double(max(epochs, 1)))))
        }
    }
}

/// "key: X here, Y recorded" for every JSON key whose value differs between two values.
public func jsonDifferences<T: Encodable>(of mine: T, from recorded: T) -> [String] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    func object(_ v: T) -> [String: Any] {
        (try? encoder.encode(v)).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
    }
    /// A value as text; objects and arrays as JSON with sorted keys (a dictionary's own
    /// description lists its keys in no fixed order, so two equal objects could differ).
    func text(_ v: Any?) -> String {
        guard let v else { return "none" }
        guard v is [String: Any] || v is [Any],
              let json = try? JSONSerialization.data(withJSONObject: v, options: [.sortedKeys]) else { return "\(v)" }
        return String(decoding: json, as: UTF8.self)
    }
    let a = object(mine), b = object(recorded)
    return Set(a.keys).union(b.keys).sorted().compactMap { key in
        let x = text(a[key]), y = text(b[key])
        return x == y ? nil : "\(key): \(x) here, \(y) recorded"
    }
}
