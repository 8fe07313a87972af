import Foundation
import TensorBoardEvents

/// Trains a `MultimodalNetwork` and keeps a run directory (`RunDirectory`: config.json,
/// metrics.jsonl, checkpoints/, weights.safetensors, tb/ for TensorBoard).
///
/// `resume: true` continues from the newest readable checkpoint and gives the same result
/// as an uninterrupted run with the same seed, whatever the thread count or number of ranks.
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
    public let network: MultimodalNetwork
    /// The network and its per-core copies that compute a rank's shards in parallel.
    let replicas: NetworkReplicas
    /// How many of this process's cores train each batch (one network copy each, at most one
    /// per shard of this rank); the default is `Parallel.workers`. Results do not depend on it.
    public var workers = Parallel.workers
    /// Every this many batches (and after an epoch's last) the mean loss since the previous
    /// log goes to `EpochMetrics.batchLosses` and, at once, to TensorBoard (`batch/loss/…`).
    public var lossLogInterval = 5
    /// The ranks training this network together. Each computes the gradients of its shards of
    /// every batch (`TrainingConfiguration.gradientShards`); the sum is the same on every rank,
    /// so every rank's Adam takes the same step. Only rank 0 writes the run directory, and
    /// only rank 0 evaluates and returns metrics (the others return none).
    public let group: ProcessGroup

    public init(model: ModelConfiguration, training: TrainingConfiguration,
                trainSet: AudioVisualDataset, testSet: AudioVisualDataset,
                runDirectory: URL, dataDescription: [String: String] = [:],
                group: ProcessGroup = SingleProcess()) throws {
        try model.validate()
        guard training.epochs >= 1, training.batchSize >= 1, training.keepCheckpoints >= 1 else {
            throw ConfigurationError.invalid("epochs, batch size and keep-checkpoints must be at least 1")
        }
        guard FixedOrderSum.supports(ranks: training.gradientShards) else {
            throw ConfigurationError.invalid("gradient shards must be a power of two (1, 2, 4, 8, …), not \(training.gradientShards)")
        }
        guard FixedOrderSum.supports(ranks: group.size), training.gradientShards % group.size == 0 else {
            throw ConfigurationError.invalid("\(group.size) ranks cannot share \(training.gradientShards) gradient shards per batch: "
                + "run on a power of two of ranks that divides --gradient-shards (or raise --gradient-shards)")
        }
        for (name, set) in [("training", trainSet), ("test", testSet)] where set.count == 0 {
            let data = dataDescription["source"].flatMap { try? DataSource.fromJSON($0, source: "") }?.location
            throw ConfigurationError.invalid("the \(name) set has 0 samples\(data.map { " (\($0))" } ?? ""): nothing to "
                + (name == "training" ? "train on" : "test on") + " (were its recordings all unreadable? see the warnings above)")
        }
        let wantVisual = [model.timesteps] + model.visualFrameShape
        let wantAudio = [model.timesteps, model.audioChannels]
        if let augmentation = training.augmentation {
            guard let events = trainSet as? any AugmentableDataset else {
                let data = dataDescription["source"].flatMap { try? DataSource.fromJSON($0, source: "") }?.location
                throw ConfigurationError.invalid("augmentation works on event datasets framed on the fly (DVS128 Gesture, CIFAR10-DVS, "
                    + "N-Caltech101, N-MNIST folders; the joint dataset's audio); the training set\(data.map { " (\($0))" } ?? "") has framed samples only")
            }
            try events.check(augmentation)   // a setting this data cannot take stops here, named
        }
        for (name, set) in [("training", trainSet), ("test", testSet)] {
            if model.mode.usesVisual && set.visualShape != wantVisual {
                throw ConfigurationError.invalid("\(name) set's visual samples are \(set.visualShape), the model needs \(wantVisual)")
            }
            if model.mode.usesAudio && set.audioShape != wantAudio {
                throw ConfigurationError.invalid("\(name) set's audio samples are \(set.audioShape), the model needs \(wantAudio)")
            }
            // A label ≥ the output width would index past the one-hot target: refuse it here.
            if set.classCount > model.classes {
                throw ConfigurationError.invalid("\(name) set has \(set.classCount) classes, the model \(model.classes) outputs")
            }
        }
        self.model = model; self.training = training
        self.trainSet = trainSet; self.testSet = testSet
        self.runDirectory = runDirectory; self.dataDescription = dataDescription
        self.group = group
        network = try MultimodalNetwork(model, seed: training.seed)
        replicas = NetworkReplicas(network)
    }

    /// The run's files.
    public var run: RunDirectory { RunDirectory(runDirectory) }
    func checkpointURL(epoch: Int) -> URL { run.checkpointURL(epoch: epoch) }

    /// Epoch numbers of the checkpoints present, ascending.
    public func checkpointEpochs() -> [Int] { run.checkpointEpochs() }

    /// Runs the remaining epochs; returns the metrics of every epoch (earlier ones too when resuming).
    @discardableResult
    public func run(resume: Bool = false) throws -> [EpochMetrics] {
        let fm = FileManager.default
        let leader = group.isLeader
        let lock = leader ? try run.lock() : nil     // before anything is written or removed
        defer { withExtendedLifetime(lock) {} }
        if leader { try run.prepare() }
        let optimiser = Adam(parameters: network.parameters, learningRate: training.learningRate)
        var shuffler = SeededGenerator(seed: training.seed ^ 0x5348_5546_464C_45)   // "SHUFFLE"
        var history: [EpochMetrics] = []
        var firstEpoch = 1

        let found = resume ? try newestCheckpoint() : nil
        if group.size > 1 {
            // Every rank reads the checkpoints itself; they must have found the same one.
            let e = Int64(found?.0 ?? 0)
            let m = FixedOrderSum.maximum([e, -e], over: group)
            if m[0] != -m[1] {
                group.abort("rank \(group.rank): the ranks found different newest checkpoints in \(run.checkpointFolder.path) "
                            + "(epochs \(-m[1])…\(m[0])); is the run directory shared by every rank?")
            }
        }
        if resume, let (epoch, checkpoint) = found {
            guard checkpoint.configuration == model else {
                let what = model.differences(from: checkpoint.configuration).joined(separator: "; ")
                throw CheckpointError.mismatch(checkpointURL(epoch: epoch).path,
                                               "its model configuration differs from this run's (\(what))")
            }
            try checkRecordedSettings()
            try network.load(checkpoint.tensors, source: checkpointURL(epoch: epoch).path)
            try optimiser.loadState(checkpoint.tensors, stepCount: checkpoint.adamStep)
            shuffler = SeededGenerator(state: checkpoint.rngState)
            if leader {
                history = try run.readMetrics().filter { $0.epoch <= epoch }
                try run.writeMetrics(history)          // drop lines of epochs after the checkpoint
            }
            firstEpoch = epoch + 1
            if leader, let problem = run.weightsProblem(epoch: epoch) {
                warn("\(problem); writing the weights of epoch \(epoch) from \(checkpointURL(epoch: epoch).lastPathComponent)")
                try run.writeWeights(network.namedTensors(), model: model, epoch: epoch)
            }
        } else if resume {
            throw CheckpointError.noCheckpoint(runDirectory.path)
        } else if leader {
            try run.writeMetrics([])
        }
        if leader { try run.writeConfiguration(.init(model: model, training: training, data: dataDescription)) }
        // The event file anew from the epochs kept: none of a killed epoch's events survive.
        let tensorBoard = leader ? try TensorBoardLog(run).start(history: history) : nil

        for epoch in firstEpoch..<(training.epochs + 1) where firstEpoch <= training.epochs {
            guard let metrics = try trainEpoch(epoch, optimiser: optimiser, shuffler: &shuffler, tensorBoard: tensorBoard)
            else { continue }
            history.append(metrics)
            try run.writeMetrics(history)
            try tensorBoard?.append([TensorBoardLog.epochEvent(metrics)])
            try Checkpoint.write(network: network, optimiser: optimiser, epoch: epoch, rng: shuffler,
                                 to: checkpointURL(epoch: epoch))
            try run.writeWeights(network.namedTensors(), model: model, epoch: epoch)
            for old in checkpointEpochs().dropLast(training.keepCheckpoints) {
                try? fm.removeItem(at: checkpointURL(epoch: old))
            }
            onEpoch?(metrics)
        }
        return history
    }

    /// On resume: the training settings (all but the number of epochs) and the data source
    /// recorded in config.json must be this run's, or the resumed run would mix two.
    func checkRecordedSettings() throws {
        guard FileManager.default.fileExists(atPath: run.configURL.path) else { return }
        let recorded = try run.readConfiguration()
        var mine = training
        mine.epochs = recorded.training.epochs
        if mine != recorded.training {
            throw CheckpointError.mismatch(run.configURL.path, "its training settings differ from this run's ("
                + jsonDifferences(of: mine, from: recorded.training).joined(separator: "; ") + ")")
        }
        let theirs = recorded.data["source"], ours = dataDescription["source"]
        guard theirs != ours else { return }
        if let theirs, let ours, let a = try? DataSource.fromJSON(theirs, source: ""),
           let b = try? DataSource.fromJSON(ours, source: ""), a.sameData(as: b) { return }
        throw CheckpointError.mismatch(run.configURL.path, "its data source differs from this run's "
            + "(recorded \(theirs ?? "none"), here \(ours ?? "none")); leave the data options out to resume on the recorded data")
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

    /// One epoch: every batch's shards (`TrainingConfiguration.shard`) of this rank, their
    /// gradients summed over the ranks in the fixed tree, one Adam step. Returns the epoch's
    /// metrics on rank 0, nil on the others; rank 0 appends its batch losses to `tensorBoard`.
    private func trainEpoch(_ epoch: Int, optimiser: Adam, shuffler: inout SeededGenerator,
                            tensorBoard: TensorBoardEventWriter?) throws -> EpochMetrics? {
        optimiser.learningRate = training.learningRate
            * training.learningRateSchedule.factor(epoch: epoch, of: training.epochs)
        var order = Array(0..<trainSet.count)
        shuffler.shuffle(&order)
        if let limit = training.trainLimit { order = Array(order.prefix(limit)) }
        let batches = (order.count + training.batchSize - 1) / training.batchSize
        let data = epochData(epoch)
        var lossSums: [String: Double] = [:]
        let start = Date()
        var seen = 0
        var gradientNormSums: [String: Double] = [:]
        var exchangeSeconds = 0.0
        var batchLosses: [BatchLoss] = [], window: [String: Double] = [:], windowBatches = 0
        for b in 0..<batches {
            let indices = order[(b * training.batchSize)..<min(order.count, (b + 1) * training.batchSize)]
            let (loss, exchanged) = try trainStep(indices, of: data, epoch: epoch)
            exchangeSeconds += exchanged
            for (layer, norm) in network.parameters.gradientNormsByLayer() { gradientNormSums[layer, default: 0] += norm }
            optimiser.step()
            let n = Double(indices.count)
            lossSums["visual", default: 0] += Double(loss[0]) * n
            lossSums["audio", default: 0] += Double(loss[1]) * n
            lossSums["fusion", default: 0] += Double(loss[2]) * n
            lossSums["total", default: 0] += Double(loss[0] + loss[1] + loss[2]) * n
            seen += indices.count
            for (k, term) in zip(["visual", "audio", "fusion", "total"], loss + [loss[0] + loss[1] + loss[2]]) {
                window[k, default: 0] += term
            }
            windowBatches += 1
            if windowBatches == max(lossLogInterval, 1) || b == batches - 1 {
                let logged = BatchLoss(step: (epoch - 1) * batches + b + 1,
                                       loss: modeTerms(window.mapValues { $0 / Double(windowBatches) }),
                                       wallTime: Date().timeIntervalSince1970)
                batchLosses.append(logged)
                try tensorBoard?.append([TensorBoardLog.event(logged)])
                window = [:]; windowBatches = 0
            }
            let elapsed = Date().timeIntervalSince(start)
            var stop = shouldStop?() == true
            if group.size > 1 { stop = FixedOrderSum.maximum([stop ? 1 : 0], over: group)[0] != 0 }
            if stop { throw TrainingInterrupted(epoch: epoch, batch: b + 1) }
            onProgress?(TrainingProgress(epoch: epoch, epochs: training.epochs, batch: b + 1, batches: batches,
                                         loss: lossSums["total"]! / Double(seen),
                                         samplesPerSecond: Double(seen) / max(elapsed, 1e-9)))
        }
        guard group.isLeader else { return nil }
        let trainSeconds = Date().timeIntervalSince(start)
        let trainLoss = modeTerms(lossSums.mapValues { $0 / Double(max(seen, 1)) })
        let testStart = Date()
        let result = try evaluate(replicas, on: testSet, batchSize: training.batchSize, limit: training.testLimit)
        let silent = (result.fusion ?? result.visual ?? result.audio)?.silentOutputs ?? []
        if !silent.isEmpty {       // rank 0 only (the others returned above)
            let head = result.fusion != nil ? "fused" : result.visual != nil ? "visual" : "auditory"
            let which = silent.count == model.classes
                ? "every \(head) output neuron" : "the \(head) output neurons of class \(silent.map(String.init).joined(separator: ", "))"
            warn("epoch \(epoch): \(which) fired no spike on the \(result.samples) test samples; a silent LIF "
                 + "neuron gets no surrogate gradient (dead output neurons, docs/results.md item 8)")
        }
        let activity = try measureActivity(network, on: testSet)
        return EpochMetrics(epoch: epoch, trainLoss: trainLoss,
                            testVisual: result.visual?.accuracy, testAudio: result.audio?.accuracy,
                            testFusion: result.fusion?.accuracy, attention: result.attention,
                            attentionPerClass: result.attentionPerClass,
                            confusion: confusionByHead(result),
                            silentOutputs: silent.isEmpty ? nil : silent,
                            testLoss: result.loss,
                            activity: activity.isEmpty ? nil : activity,
                            gradientNorms: gradientNormSums.mapValues { $0 / Double(max(batches, 1)) },
                            learningRate: Double(optimiser.learningRate), batchLosses: batchLosses,
                            wallTime: Date().timeIntervalSince1970,
                            samplesPerSecond: Double(seen) / max(trainSeconds, 1e-9),
                            trainSeconds: trainSeconds, testSeconds: Date().timeIntervalSince(testStart),
                            ranks: group.size > 1 ? group.size : nil,
                            exchangeSeconds: group.size > 1 ? exchangeSeconds : nil)
    }

    /// Loss terms without those of heads the mode lacks.
    private func modeTerms(_ terms: [String: Double]) -> [String: Double] {
        var t = terms
        if !model.mode.usesVisual { t["visual"] = nil }
        if !model.mode.usesAudio { t["audio"] = nil }
        if !model.mode.usesFusion { t["fusion"] = nil }
        return t
    }

    /// The confusion matrix of each head the evaluation has, by head name.
    private func confusionByHead(_ r: EvaluationResult) -> [String: [[Int]]] {
        var out: [String: [[Int]]] = [:]
        for (name, head) in [("visual", r.visual), ("audio", r.audio), ("fusion", r.fusion)] { out[name] = head?.confusion }
        return out
    }

    /// The training samples of `epoch`: `trainSet`, or its `AugmentedEpoch` when the run
    /// augments (the seed of sample i depends on the run's seed, the epoch and i only, so a
    /// resumed run augments every sample as the uninterrupted run does).
    func epochData(_ epoch: Int) -> AudioVisualDataset {
        guard let augmentation = training.augmentation, let events = trainSet as? any AugmentableDataset else { return trainSet }
        return AugmentedEpoch(events, augmentation: augmentation, runSeed: training.seed, epoch: epoch)
    }

    /// Forward and backward of this rank's shards of one batch (`indices`), the gradients
    /// summed over shards and ranks in the fixed tree and left in every parameter's `grad`.
    /// Returns the batch-mean loss terms (visual, audio, fusion), the same on every rank, and
    /// the seconds spent exchanging with other ranks. `data` is the epoch's training set
    /// (`epochData`, default `trainSet`). Dropout masks are seeded per run, epoch and dataset
    /// sample (`dropoutSeed`), so they do not depend on shards, workers or ranks.
    func trainStep(_ indices: ArraySlice<Int>, of data: AudioVisualDataset? = nil, epoch: Int) throws
        -> (loss: [Double], exchangeSeconds: Double) {
        let data = data ?? trainSet
        let shards = training.gradientShards, ranks = group.size
        let batches = try ((group.rank * shards / ranks)..<((group.rank + 1) * shards / ranks)).map { j -> Batch? in
            let range = training.shard(j, ofBatch: indices.count)   // empty: a last batch smaller than the shard count
            guard !range.isEmpty else { return nil }
            let samples = indices[(indices.startIndex + range.lowerBound)..<(indices.startIndex + range.upperBound)]
            var batch = try makeBatch(data, indices: samples)
            batch.sampleSeeds = samples.map { Self.dropoutSeed(run: training.seed, epoch: epoch, sample: $0) }
            return batch
        }
        var (total, loss) = try replicas.summedGradients(of: batches, meanOver: indices.count, workers: workers)
        var seconds = 0.0
        if ranks > 1 {
            let start = Date()
            FixedOrderSum.sum(&total, over: group)
            FixedOrderSum.sum(&loss, over: group)
            seconds = Date().timeIntervalSince(start)
        }
        network.parameters.setGradients(from: total)
        return (loss, seconds)
    }
}

extension Trainer {
    /// The seed of dataset sample `sample`'s dropout masks in epoch `epoch` of a run seeded `run`
    /// (the augmentations' derivation, `AugmentationSeed`, on a seed of its own).
    static func dropoutSeed(run: UInt64, epoch: Int, sample: Int) -> UInt64 {
        AugmentationSeed.derive(run: run ^ 0x4452_4F50_4F55_5421, epoch: epoch, sample: sample)   // "DROPOUT!"
    }
}

public extension Array where Element == Parameter {
    /// Every parameter's gradient, concatenated in order (`count` values in all).
    func flattenedGradients(count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { o in
            var offset = 0
            for p in self {
                let n = p.grad.count
                p.grad.withPointer { (o.baseAddress! + offset).update(from: $0, count: n) }
                offset += n
            }
        }
        return out
    }

    /// Replaces every parameter's gradient with its part of `flat` (as `flattenedGradients` lays it out).
    func setGradients(from flat: [Float]) {
        flat.withUnsafeBufferPointer { f in
            var offset = 0
            for p in self {
                let n = p.grad.count
                p.grad.withMutablePointer { $0.update(from: f.baseAddress! + offset, count: n) }
                offset += n
            }
        }
    }
}

/// A run stopped on request (e.g. Ctrl-C) before finishing; resume continues it.
public struct TrainingInterrupted: Error, CustomStringConvertible {
    public var epoch: Int, batch: Int
    public var description: String {
        "interrupted in epoch \(epoch) after batch \(batch); run again with --resume to continue from the last checkpoint"
    }
}

/// A warning line on standard error.
public func warn(_ message: String) {
    FileHandle.standardError.write(Data(("warning: " + message + "\n").utf8))
}
