import Foundation

/// What one epoch achieved; one JSON line per epoch in `metrics.jsonl`.
public struct EpochMetrics: Codable, Sendable, Equatable {
    public var epoch: Int
    /// Mean training loss terms over the epoch (`visual`, `audio`, `fusion`, `total`).
    public var trainLoss: [String: Double]
    /// Test accuracy per head in % (absent heads omitted).
    public var testVisual: Double?
    public var testAudio: Double?
    public var testFusion: Double?
    /// Mean test attention weights (w_v, w_a), attention mode only.
    public var attention: [Double]?
    /// Classes whose deciding output neuron (fused if present) fired no spike on the test
    /// set; nil when every output neuron fired (`HeadEvaluation.silentOutputs`).
    public var silentOutputs: [Int]?
    public var testLoss: [String: Double]
    /// Per spiking layer, what its neurons did on a fixed batch of test samples after the
    /// epoch (firing rate, silent neurons, membrane statistics, surrogate window; `NeuronActivity`).
    public var activity: [NeuronActivity]?
    /// Per layer, the L2 norm of its parameters' loss gradient, mean over the epoch's batches.
    public var gradientNorms: [String: Double]?
    /// Training throughput (forward + backward + Adam) over the epoch.
    public var samplesPerSecond: Double
    public var trainSeconds: Double
    public var testSeconds: Double
    /// Ranks that trained the epoch together (absent for one process).
    public var ranks: Int?
    /// Seconds of `trainSeconds` rank 0 spent summing gradients with the other ranks
    /// (`FixedOrderSum`; absent for one process).
    public var exchangeSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case epoch, attention, ranks
        case exchangeSeconds = "exchange_seconds"
        case silentOutputs = "silent_outputs"
        case activity, gradientNorms = "gradient_norms"
        case trainLoss = "train_loss", testLoss = "test_loss"
        case testVisual = "test_visual", testAudio = "test_audio", testFusion = "test_fusion"
        case samplesPerSecond = "samples_per_second", trainSeconds = "train_seconds", testSeconds = "test_seconds"
    }
}

/// Progress of a running job, for a live status line.
public struct TrainingProgress: Sendable {
    public var epoch: Int, epochs: Int
    public var batch: Int, batches: Int
    public var loss: Double
    public var samplesPerSecond: Double
}

/// Parses `metrics.jsonl` text.
public func readMetricsLines(_ text: String, source: String) throws -> [EpochMetrics] {
    var out: [EpochMetrics] = []
    for (i, line) in text.split(separator: "\n").enumerated() where !line.isEmpty {
        do { out.append(try JSONDecoder().decode(EpochMetrics.self, from: Data(line.utf8))) } catch {
            throw CheckpointError.invalid(source, "line \(i + 1) is not an epoch record: \(error)")
        }
    }
    return out
}
