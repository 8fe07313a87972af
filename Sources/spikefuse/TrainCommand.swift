import Foundation
import Multimodal

enum TrainCommand {
    static let help = """
    usage: spikefuse train [--mode MODE | --network FILE] --out RUN_DIR [data] [options] [--resume]

    Trains one of the paper's networks, or the network a description file gives, and keeps a run directory (config.json, metrics.jsonl,
    checkpoints/epoch-NNNN.safetensors, weights.safetensors, tb/ with TensorBoard logs;
    `spikefuse report RUN_DIR` draws the run as one HTML page). --resume continues a killed run
    from its newest checkpoint and gives the same result as an uninterrupted run: it takes the
    data, model and training settings recorded in RUN_DIR/config.json (options that differ from
    them are refused; --epochs may raise the total, --cache and --bad-files may change), and
    rewrites weights.safetensors from the newest checkpoint when they do not match.
    Only one process at a time can write RUN_DIR (an advisory lock on it).

      --mode multimodal|multimodal-noattention|visual|audio   (multimodal; audio for SHD or SSC, visual for event folders)

    """ + RunOptions.help

    static func run(_ args: [String]) throws {
        var a = Arguments(args)
        if a.wantsHelp { print(help); return }
        let mode = try a.string("mode").map { try TrainingMode(parsing: $0) }
        guard let out = try a.string("out") else { throw UsageError("train needs --out RUN_DIR") }
        let resume = a.flag("resume")
        var peek = a
        let modelText = try peek.string("config")
        let readout: AttentionReadout? = try choice(&peek, "readout", "--readout must be neuron or integrator")
        var options = try RunOptions.parse(&a)
        try a.finish()
        if let network = options.model.network {
            guard mode == nil || mode == options.model.mode else {
                throw UsageError("--mode \(mode!) conflicts with the network '\(network.name)', a \(options.model.mode) network")
            }
        } else {
            options.model.mode = mode ?? (!options.source.hasVisual ? .audio : !options.source.hasAudio ? .visual : .multimodal)
        }
        try options.source.check(mode: options.model.mode)
        let run = RunDirectory(URL(fileURLWithPath: out))
        if resume && FileManager.default.fileExists(atPath: run.configURL.path) {
            let given = Set(args.compactMap { arg -> String? in
                arg.hasPrefix("--") ? String(arg.dropFirst(2).split(separator: "=", maxSplits: 1).first ?? "") : nil
            })
            options = try recordedOptions(of: run, given: given, parsed: options, modelText: modelText, readout: readout)
        }
        _ = try train(options, out: run.url, resume: resume)
    }

    /// `--resume`: the run's options as config.json records them, with the options given on
    /// the command line that may change (`--epochs`, `--cache`, `--bad-files`); any other
    /// option given with a value other than the recorded one is refused, naming each.
    static func recordedOptions(of run: RunDirectory, given: Set<String>, parsed: RunOptions,
                                modelText: String?, readout: AttentionReadout?) throws -> RunOptions {
        let recorded = try run.readConfiguration()
        let recordedSource = try run.readDataSource()
        var conflicts: [String] = []

        // Data: the recorded source, unless a source or framing option names other data.
        var source = recordedSource
        let framing: Set = ["data", "visual", "audio", "synthetic", "shd", "scale", "timesteps", "crop", "counts", "split"]
        if !given.isDisjoint(with: framing) {
            if parsed.source.sameData(as: recordedSource) {
                source = parsed.source
            } else if case .joint(let a) = parsed.source, case .joint(let b) = recordedSource {
                conflicts += jsonDifferences(of: a, from: b).map { "data \($0)" }
            } else if case .shd(let a) = parsed.source, case .shd(let b) = recordedSource {
                conflicts += jsonDifferences(of: a.withFrameNeutralSettings(of: b), from: b).map { "data \($0)" }
            } else if case .events(var a) = parsed.source, case .events(let b) = recordedSource {
                a = a.withFrameNeutralSettings(of: b)
                // The input's size comes from the network, not from options: the recorded one.
                (a.polarities, a.height, a.width, a.downsample) = (b.polarities, b.height, b.width, b.downsample)
                if !given.contains("timesteps") { a.timesteps = b.timesteps }
                conflicts += jsonDifferences(of: a, from: b).map { "data \($0)" }
            } else {
                conflicts.append("data: \(parsed.source.location) here, \(recordedSource.location) recorded")
            }
        } else {
            /// The recorded settings with the frame-neutral options given on this command line.
            func withOptionsGiven<C: FramedDataSettings>(_ recorded: C, _ parsed: C) -> C {
                var c = recorded
                if given.contains("cache") { c.cacheDirectory = parsed.cacheDirectory }
                if given.contains("bad-files") { c.badFiles = parsed.badFiles }
                return c
            }
            switch (source, parsed.source) {
            case (.joint(let c), .joint(let p)): source = .joint(withOptionsGiven(c, p))
            case (.shd(let c), .shd(let p)): source = .shd(withOptionsGiven(c, p))
            case (.events(let c), .events(let p)): source = .events(withOptionsGiven(c, p))
            default: break
            }
        }

        // Model: the recorded one with the model options given applied over it.
        var model = recorded.model
        if given.contains("mode") { model.mode = parsed.model.mode }
        if given.contains("network") { model = parsed.model }
        if let modelText { model = source.fitting(try RunOptions.modelSettings(modelText, over: model)) }
        if let readout { model.attentionReadout = readout }
        conflicts += model.differences(from: recorded.model, otherName: "config.json").map { "model \($0)" }

        // Training: the recorded settings; the options given must agree but for --epochs.
        var training = recorded.training
        let p = parsed.training
        if given.contains("epochs") { training.epochs = p.epochs }
        if given.contains("batch-size") { training.batchSize = p.batchSize }
        if given.contains("lr") { training.learningRate = p.learningRate }
        if given.contains("lr-schedule") { training.learningRateSchedule = p.learningRateSchedule }
        if given.contains("seed") { training.seed = p.seed }
        if given.contains("gradient-shards") { training.gradientShards = p.gradientShards }
        if given.contains("train-limit") { training.trainLimit = p.trainLimit }
        if given.contains("test-limit") { training.testLimit = p.testLimit }
        if given.contains("augment") { training.augmentation = p.augmentation }
        var compared = training
        compared.epochs = recorded.training.epochs
        conflicts += jsonDifferences(of: compared, from: recorded.training).map { "training \($0)" }

        guard conflicts.isEmpty else {
            throw UsageError("--resume: \(run.url.path) was trained with other settings (its config.json); "
                             + "leave out or correct the options that differ: " + conflicts.joined(separator: "; "))
        }
        return RunOptions(source: source, model: model, training: training)
    }

    /// Trains with a live status line and one printed line per epoch.
    /// Under `mpirun` every rank trains its shards of each batch (`Trainer.group`); rank 0
    /// prepares the data first (the others then read its cache) and alone prints and writes.
    static func train(_ options: RunOptions, out: URL, resume: Bool) throws -> [EpochMetrics] {
        let (trainSet, testSet) = try Cluster.leaderFirst {
            try DefaultDataSet.prepare(options.source)
            return try options.source.datasets()
        }
        let group = Cluster.group
        let trainer = try Trainer(model: options.model, training: options.training,
                                  trainSet: trainSet, testSet: testSet, runDirectory: out,
                                  dataDescription: ["source": options.source.jsonString()], group: group)
        if group.isLeader { showProgress(of: trainer, status: StatusLine()) } else { trainer.shouldStop = { Interrupt.requested } }
        Interrupt.install()
        let ranks = group.size > 1 ? " on \(group.size) ranks (\(options.training.gradientShards) gradient shards per batch)" : ""
        func used(_ count: Int, _ limit: Int?, per: String) -> String {
            guard let limit, limit < count else { return "\(count)" }
            return "\(limit)\(per) of \(count)"
        }
        Cluster.say("training \(options.model.mode) on \(used(trainSet.count, options.training.trainLimit, per: " per epoch")) samples, "
                    + "testing on \(used(testSet.count, options.training.testLimit, per: ""))\(ranks); run directory \(out.path)")
        let metrics = try trainer.run(resume: resume)
        if resume, let last = metrics.last, last.epoch >= options.training.epochs {
            print("run complete: \(last.epoch) epochs (raise --epochs to train further; a cosine schedule then follows the new total)")
        }
        return metrics
    }
}

/// A status line per batch, one printed line per epoch (`describe`), and a stop on Ctrl-C;
/// `label` (e.g. "audio seed 2") leads the status line and indents the epoch lines.
func showProgress(of trainer: Trainer, status: StatusLine, label: String? = nil) {
    trainer.onProgress = { p in
        status.update((label.map { $0 + "  " } ?? "")
                      + String(format: "epoch %d/%d  batch %d/%d  loss %.4f  %.1f samples/s",
                               p.epoch, p.epochs, p.batch, p.batches, p.loss, p.samplesPerSecond))
    }
    trainer.onEpoch = { m in status.finish(); print((label == nil ? "" : "  ") + describe(m)) }
    trainer.shouldStop = { Interrupt.requested }
}
