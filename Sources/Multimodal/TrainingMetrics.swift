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
    /// Mean test attention weights (w_v, w_a) per true class, attention mode only.
    public var attentionPerClass: [[Double]]?
    /// Test confusion per head (`"visual"`, `"audio"`, `"fusion"`): `[true][predicted]` counts.
    public var confusion: [String: [[Int]]]?
    /// Classes whose deciding output neuron (fused if present) fired no spike on the test
    /// set; nil when every output neuron fired (`HeadEvaluation.silentOutputs`).
    public var silentOutputs: [Int]?
    public var testLoss: [String: Double]
    /// Per spiking layer, what its neurons did on a fixed batch of test samples after the
    /// epoch (firing rate, silent neurons, membrane statistics, surrogate window; `NeuronActivity`).
    public var activity: [NeuronActivity]?
    /// Per layer, the L2 norm of its parameters' loss gradient, mean over the epoch's batches.
    public var gradientNorms: [String: Double]?
    /// The learning rate the epoch trained with (after the schedule's factor).
    public var learningRate: Double?
    /// Mean training loss terms of every `Trainer.lossLogInterval` batches, as they were
    /// logged during the epoch (TensorBoard's `batch/loss/…`).
    public var batchLosses: [BatchLoss]?
    /// When the epoch's metrics were complete, in seconds since 1970-01-01 UTC.
    public var wallTime: Double?
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
        case epoch, attention, ranks, confusion
        case attentionPerClass = "attention_per_class", learningRate = "learning_rate"
        case batchLosses = "batch_losses", wallTime = "wall_time"
        case exchangeSeconds = "exchange_seconds"
        case silentOutputs = "silent_outputs"
        case activity, gradientNorms = "gradient_norms"
        case trainLoss = "train_loss", testLoss = "test_loss"
        case testVisual = "test_visual", testAudio = "test_audio", testFusion = "test_fusion"
        case samplesPerSecond = "samples_per_second", trainSeconds = "train_seconds", testSeconds = "test_seconds"
    }
}

/// The mean training loss terms of a run of batches, logged once per
/// `Trainer.lossLogInterval` batches (and after an epoch's last batch).
public struct BatchLoss: Codable, Sendable, Equatable {
    /// Batches trained since the run's start, the last of these included (1-based, global
    /// over epochs: epoch e's batch b is step (e − 1)·batches + b).
    public var step: Int
    /// Mean over the batches since the previous log (`visual`, `audio`, `fusion`, `total`).
    public var loss: [String: Double]
    /// When it was logged, in seconds since 1970-01-01 UTC.
    public var wallTime: Double

    public init(step: Int, loss: [String: Double], wallTime: Double) {
        self.step = step; self.loss = loss; self.wallTime = wallTime
    }

    enum CodingKeys: String, CodingKey {
        case step, loss, wallTime = "wall_time"
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
