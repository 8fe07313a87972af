import Foundation
import Multimodal

enum TrainCommand {
    static let help = """
    usage: spikefuse train [--mode MODE | --network FILE] --out RUN_DIR [data] [options] [--resume]

    Trains one of the paper's networks, or the network a description file gives, and keeps a run directory (config.json, metrics.jsonl,
    checkpoints/epoch-NNNN.safetensors, weights.safetensors). --resume continues a killed run
    from its newest checkpoint and gives the same result as an uninterrupted run.

      --mode multimodal|multimodal-noattention|visual|audio   (multimodal)

    """ + RunOptions.help

    static func run(_ args: [String]) throws {
        var a = Arguments(args)
        if a.wantsHelp { print(help); return }
        let mode = try a.string("mode").map { try TrainingMode(parsing: $0) }
        guard let out = try a.string("out") else { throw UsageError("train needs --out RUN_DIR") }
        let resume = a.flag("resume")
        var options = try RunOptions.parse(&a)
        try a.finish()
        if let network = options.model.network {
            guard mode == nil || mode == options.model.mode else {
                throw UsageError("--mode \(mode!) conflicts with the network '\(network.name)', a \(options.model.mode) network")
            }
        } else {
            options.model.mode = mode ?? .multimodal
        }
        _ = try train(options, out: URL(fileURLWithPath: out), resume: resume)
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
