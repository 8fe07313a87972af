import Foundation

/// Optimisation settings. The paper gives lr = 1e-3 (Adam); batch size and epochs are
/// not given — defaults chosen in docs/model.md.
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    public var epochs = 20
    public var batchSize = 32
    public var learningRate: Float = 1e-3
    /// Learning rate of the auditory subnetwork's parameters (`audio.*`); nil = `learningRate`
    /// (the paper: one rate for all). A documented option, not the paper's: with Adam at
    /// 1e-3 the 512R×3 recurrent network learns erratically on real speech (docs/model.md).
    public var audioLearningRate: Float?
    /// How the learning rates change over the epochs; nil = constant (the paper).
    public var learningRateSchedule: LearningRateSchedule?
    /// Seeds weight initialisation and the per-epoch shuffle.
    public var seed: UInt64 = 1
    /// Checkpoints kept in the run directory (older ones are deleted); at least 1.
    public var keepCheckpoints = 3
    /// Train on at most this many samples per epoch (nil = all), for quick runs.
    public var trainLimit: Int?
    /// Evaluate on at most this many test samples (nil = all).
    public var testLimit: Int?
    /// Rescale the gradients of each batch so that their global L2 norm (over all
    /// parameters) is at most this value before the Adam step — PyTorch's
    /// `clip_grad_norm_`. nil (the default, as in the paper) leaves gradients as they are.
    public var clipGradientNorm: Float?
    public init() {}
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
    /// Training throughput (forward + backward + Adam) over the epoch.
    public var samplesPerSecond: Double
    public var trainSeconds: Double
    public var testSeconds: Double

    enum CodingKeys: String, CodingKey {
        case epoch, attention
        case silentOutputs = "silent_outputs"
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

/// Trains a `MultimodalNetwork` and keeps a run directory:
///
///     RUN_DIR/config.json                  model + training configuration + data description
///     RUN_DIR/metrics.jsonl                one EpochMetrics per line
///     RUN_DIR/checkpoints/epoch-NNNN.safetensors   weights + Adam + epoch + RNG (atomic)
///     RUN_DIR/weights.safetensors          latest weights only (for evaluate / PyTorch)
///
/// `resume: true` continues from the newest readable checkpoint and gives the same result
/// as an uninterrupted run with the same seed (same thread count).
public final class Trainer {
    public let model: ModelConfiguration
    public let training: TrainingConfiguration
    public let trainSet: AudioVisualDataset
    public let testSet: AudioVisualDataset
    public let runDirectory: URL
    /// Free text stored in config.json describing where the data came from.
    public let dataDescription: [String: String]
    public var onProgress: ((TrainingProgress) -> Void)?
    public var onEpoch: ((EpochMetrics) -> Void)?
    /// Asked after every batch; returning true stops the run with `TrainingInterrupted`
    /// (the newest checkpoint stays, so `run(resume: true)` continues from it).
    public var shouldStop: (() -> Bool)?
    public private(set) var network: MultimodalNetwork

    public init(model: ModelConfiguration, training: TrainingConfiguration,
                trainSet: AudioVisualDataset, testSet: AudioVisualDataset,
                runDirectory: URL, dataDescription: [String: String] = [:]) throws {
        try model.validate()
        guard training.epochs >= 1, training.batchSize >= 1, training.keepCheckpoints >= 1 else {
            throw ConfigurationError.invalid("epochs, batch size and keep-checkpoints must be at least 1")
        }
        let wantVisual = [model.timesteps] + model.visualFrameShape
        let wantAudio = [model.timesteps, model.audioChannels]
        for (name, set) in [("training", trainSet), ("test", testSet)] {
            if model.mode.usesVisual && set.visualShape != wantVisual {
                throw ConfigurationError.invalid("\(name) set's visual samples are \(set.visualShape), the model needs \(wantVisual)")
            }
            if model.mode.usesAudio && set.audioShape != wantAudio {
                throw ConfigurationError.invalid("\(name) set's audio samples are \(set.audioShape), the model needs \(wantAudio)")
            }
        }
        self.model = model; self.training = training
        self.trainSet = trainSet; self.testSet = testSet
        self.runDirectory = runDirectory; self.dataDescription = dataDescription
        network = try MultimodalNetwork(model, seed: training.seed)
    }

    var checkpointDirectory: URL { runDirectory.appendingPathComponent("checkpoints") }
    var metricsURL: URL { runDirectory.appendingPathComponent("metrics.jsonl") }

    func checkpointURL(epoch: Int) -> URL {
        checkpointDirectory.appendingPathComponent(String(format: "epoch-%04d.safetensors", epoch))
    }

    /// Epoch numbers of the checkpoints present, ascending.
    public func checkpointEpochs() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpointDirectory.path)) ?? []
        return names.compactMap { name -> Int? in
            guard name.hasPrefix("epoch-"), name.hasSuffix(".safetensors") else { return nil }
            return Int(name.dropFirst(6).dropLast(12))
        }.sorted()
    }

    /// Runs the remaining epochs; returns the metrics of every epoch (earlier ones too when resuming).
    @discardableResult
    public func run(resume: Bool = false) throws -> [EpochMetrics] {
        let fm = FileManager.default
        try fm.createDirectory(at: checkpointDirectory, withIntermediateDirectories: true)
        let optimiser = Adam(parameters: network.parameters, learningRate: training.learningRate)
        if let audioRate = training.audioLearningRate {
            optimiser.learningRateScales = network.parameters.map {
                $0.name.hasPrefix("audio.") ? audioRate / training.learningRate : 1
            }
        }
        var shuffler = SeededGenerator(seed: training.seed ^ 0x5348_5546_464C_45)   // "SHUFFLE"
        var history: [EpochMetrics] = []
        var firstEpoch = 1

        if resume, let (epoch, checkpoint) = try newestCheckpoint() {
            guard checkpoint.configuration == model else {
                let what = model.differences(from: checkpoint.configuration).joined(separator: "; ")
                throw CheckpointError.mismatch(checkpointURL(epoch: epoch).path,
                                               "its model configuration differs from this run's (\(what))")
            }
            try network.load(checkpoint.tensors, source: checkpointURL(epoch: epoch).path)
            try optimiser.loadState(checkpoint.tensors, stepCount: checkpoint.adamStep)
            shuffler = SeededGenerator(state: checkpoint.rngState)
            history = try readMetrics().filter { $0.epoch <= epoch }
            try writeMetrics(history)          // drop lines of epochs after the checkpoint
            firstEpoch = epoch + 1
        } else if resume {
            throw CheckpointError.noCheckpoint(runDirectory.path)
        } else {
            try writeMetrics([])
        }
        try writeRunConfiguration()

        for epoch in firstEpoch..<(training.epochs + 1) where firstEpoch <= training.epochs {
            let metrics = try trainEpoch(epoch, optimiser: optimiser, shuffler: &shuffler)
            history.append(metrics)
            try appendMetrics(metrics)
            try Checkpoint.write(network: network, optimiser: optimiser, epoch: epoch, rng: shuffler,
                                 to: checkpointURL(epoch: epoch))
            try SafeTensors.write(network.namedTensors(), metadata: ["config": model.jsonString(), "epoch": String(epoch)],
                                  to: runDirectory.appendingPathComponent("weights.safetensors"))
            for old in checkpointEpochs().dropLast(training.keepCheckpoints) {
                try? fm.removeItem(at: checkpointURL(epoch: old))
            }
            onEpoch?(metrics)
        }
        return history
    }

    /// The newest checkpoint that reads back, skipping damaged ones (a crash mid-write
    /// cannot leave one, since writes are atomic, but a disk can).
    func newestCheckpoint() throws -> (Int, Checkpoint)? {
        for epoch in checkpointEpochs().reversed() {
            if let c = try? Checkpoint.read(checkpointURL(epoch: epoch)) { return (epoch, c) }
            warn("skipping unreadable checkpoint \(checkpointURL(epoch: epoch).path)")
        }
        return nil
    }

    private func trainEpoch(_ epoch: Int, optimiser: Adam, shuffler: inout SeededGenerator) throws -> EpochMetrics {
        optimiser.learningRate = training.learningRate
            * (training.learningRateSchedule ?? .constant).factor(epoch: epoch, of: training.epochs)
        var order = Array(0..<trainSet.count)
        shuffler.shuffle(&order)
        if let limit = training.trainLimit { order = Array(order.prefix(limit)) }
        let batches = (order.count + training.batchSize - 1) / training.batchSize
        var lossSums: [String: Double] = [:]
        let start = Date()
        var seen = 0
        for b in 0..<batches {
            let indices = order[(b * training.batchSize)..<min(order.count, (b + 1) * training.batchSize)]
            let batch = try makeBatch(trainSet, indices: indices)
            optimiser.zeroGradients()
            let (loss, _) = network.forwardBackward(visual: model.mode.usesVisual ? batch.visual : nil,
                                                    audio: model.mode.usesAudio ? batch.audio : nil,
                                                    labels: batch.labels)
            if let maxNorm = training.clipGradientNorm { clipGradientNorm(network.parameters, maxNorm: maxNorm) }
            optimiser.step()
            let n = Double(indices.count)
            lossSums["visual", default: 0] += Double(loss.visual) * n
            lossSums["audio", default: 0] += Double(loss.audio) * n
            lossSums["fusion", default: 0] += Double(loss.fusion) * n
            lossSums["total", default: 0] += Double(loss.total) * n
            seen += indices.count
            let elapsed = Date().timeIntervalSince(start)
            if shouldStop?() == true { throw TrainingInterrupted(epoch: epoch, batch: b + 1) }
            onProgress?(TrainingProgress(epoch: epoch, epochs: training.epochs, batch: b + 1, batches: batches,
                                         loss: lossSums["total"]! / Double(seen),
                                         samplesPerSecond: Double(seen) / max(elapsed, 1e-9)))
        }
        let trainSeconds = Date().timeIntervalSince(start)
        var trainLoss = lossSums.mapValues { $0 / Double(max(seen, 1)) }
        if !model.mode.usesVisual { trainLoss["visual"] = nil }
        if !model.mode.usesAudio { trainLoss["audio"] = nil }
        if !model.mode.usesFusion { trainLoss["fusion"] = nil }
        let testStart = Date()
        let result = try evaluate(network, on: testSet, batchSize: training.batchSize, limit: training.testLimit)
        let silent = (result.fusion ?? result.visual ?? result.audio)?.silentOutputs ?? []
        if !silent.isEmpty {
            let head = result.fusion != nil ? "fused" : result.visual != nil ? "visual" : "auditory"
            let which = silent.count == model.classes
                ? "every \(head) output neuron" : "the \(head) output neurons of class \(silent.map(String.init).joined(separator: ", "))"
            warn("epoch \(epoch): \(which) fired no spike on the \(result.samples) test samples; a silent LIF "
                 + "neuron gets no surrogate gradient (dead output neurons, docs/results.md item 8)")
        }
        return EpochMetrics(epoch: epoch, trainLoss: trainLoss,
                            testVisual: result.visual?.accuracy, testAudio: result.audio?.accuracy,
                            testFusion: result.fusion?.accuracy, attention: result.attention,
                            silentOutputs: silent.isEmpty ? nil : silent,
                            testLoss: result.loss,
                            samplesPerSecond: Double(seen) / max(trainSeconds, 1e-9),
                            trainSeconds: trainSeconds, testSeconds: Date().timeIntervalSince(testStart))
    }

    // MARK: run-directory files

    private func writeRunConfiguration() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        struct RunConfiguration: Encodable {
            let model: ModelConfiguration
            let training: TrainingConfiguration
            let data: [String: String]
        }
        let data = try encoder.encode(RunConfiguration(model: model, training: training, data: dataDescription))
        try writeAtomically(data, to: runDirectory.appendingPathComponent("config.json"))
    }

    func readMetrics() throws -> [EpochMetrics] {
        guard let text = try? String(contentsOf: metricsURL, encoding: .utf8) else { return [] }
        return try readMetricsLines(text, source: metricsURL.path)
    }

    private func writeMetrics(_ metrics: [EpochMetrics]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var text = ""
        for m in metrics { text += String(decoding: try encoder.encode(m), as: UTF8.self) + "\n" }
        try writeAtomically(Data(text.utf8), to: metricsURL)
    }

    private func appendMetrics(_ m: EpochMetrics) throws {
        try writeMetrics(try readMetrics() + [m])
    }
}

/// Scales all gradients by `maxNorm / ‖g‖` when their global L2 norm ‖g‖ (summed in Double
/// over every parameter) exceeds `maxNorm`; returns ‖g‖ before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    var sum = 0.0
    for p in parameters {
        p.grad.scalars.withUnsafeBufferPointer { g in for v in g { sum += Double(v) * Double(v) } }
    }
    let norm = Float(sum.squareRoot())
    if norm > maxNorm {
        let scale = maxNorm / (norm + 1e-6)   // PyTorch adds 1e-6 to the norm
        for p in parameters {
            p.grad.scalars.withUnsafeMutableBufferPointer { g in for i in g.indices { g[i] *= scale } }
        }
    }
    return norm
}

/// A run stopped on request (e.g. Ctrl-C) before finishing; resume continues it.
public struct TrainingInterrupted: Error, CustomStringConvertible {
    public var epoch: Int, batch: Int
    public var description: String {
        "interrupted in epoch \(epoch) after batch \(batch); run again with --resume to continue from the last checkpoint"
    }
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

/// Writes `data` to a temporary file beside `url`, then renames it over `url`, so a
/// crash leaves either the old or the new file, never a torn one.
public func writeAtomically(_ data: Data, to url: URL) throws {
    let tmp = url.deletingLastPathComponent()
        .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
    try data.write(to: tmp)
    if rename(tmp.path, url.path) != 0 {
        let why = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: tmp)
        throw CheckpointError.invalid(url.path, "could not replace file: \(why)")
    }
}

/// A warning line on standard error.
public func warn(_ message: String) {
    FileHandle.standardError.write(Data(("warning: " + message + "\n").utf8))
}
