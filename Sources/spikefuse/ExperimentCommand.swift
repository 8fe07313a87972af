import Foundation
import Multimodal

enum ExperimentCommand {
    static let help = """
    usage: spikefuse experiment --out DIR [--repeats 5] [--modes m1,m2,…] [--first-seed 1] [data] [options]

    The paper's protocol: every mode trained REPEATS times with seeds first-seed, first-seed+1, …;
    writes DIR/table1.md and table1.csv (mean, std, best test accuracy per mode) and
    DIR/fig3.csv and fig3.svg (test accuracy per epoch, mean and min–max over seeds).
    Each run lives in DIR/<mode>/seed-<s>/ and is resumed if interrupted; DIR/runs.csv lists them.

      --faults F1,F2,…   after training, evaluate every run on the test split of each folder
                         (written by `spikefuse synth --corrupt P --corrupt-split test` with the
                         training data's seed): DIR/faults.md, faults.csv and faults.svg give the
                         accuracy of every mode and the attention weights (w_v, w_a) on clean,
                         visual-corrupted and audio-corrupted samples
      --fault-limit N    evaluate N test samples of each fault set, spread over the classes (all)

    """ + RunOptions.help

    static func run(_ args: [String]) throws {
        var a = Arguments(args)
        if a.wantsHelp { print(help); return }
        guard let out = try a.string("out") else { throw UsageError("experiment needs --out DIR") }
        var config = ExperimentConfiguration()
        if let r = try a.int("repeats") {
            guard r >= 1 else { throw UsageError("--repeats must be at least 1") }
            config.repeats = r
        }
        if let s = try a.uint64("first-seed") { config.firstSeed = s }
        let modes = try a.string("modes").map { try $0.split(separator: ",").map { try TrainingMode(parsing: String($0)) } }
        let faultFolders = try a.string("faults").map { $0.split(separator: ",").map { URL(fileURLWithPath: String($0)) } } ?? []
        let faultLimit = try positiveLimit(&a, "fault-limit")
        let options = try RunOptions.parse(&a)
        try a.finish()
        guard faultFolders.isEmpty || { if case .joint = options.source { return true } else { return false } }() else {
            throw UsageError("--faults needs real-layout data (--data or --visual/--audio), not --synthetic")
        }
        if let network = options.model.network {
            // A described network is one mode: its own; it runs over the repeats.
            guard modes == nil || modes! == [options.model.mode] else {
                throw UsageError("--modes conflicts with the network '\(network.name)', a \(options.model.mode) network")
            }
            config.modes = [options.model.mode]
        } else if let modes {
            config.modes = modes
        } else if !options.source.hasVisual {
            config.modes = [.audio]   // SHD / SSC: audio only
        } else if !options.source.hasAudio {
            config.modes = [.visual]  // event-camera folders: visual only
        }
        for mode in config.modes { try options.source.check(mode: mode) }
        config.model = options.model
        config.training = options.training
        let (trainSet, testSet) = try Cluster.leaderFirst {
            try DefaultDataSet.prepare(options.source)
            return try options.source.datasets()
        }
        let dir = URL(fileURLWithPath: out)
        let group = Cluster.group
        let status = StatusLine()
        Interrupt.install()
        if group.size > 1 { print("rank \(group.rank) of \(group.size): runs \(group.rank + 1), \(group.rank + 1 + group.size), … of the protocol") }
        let runs: [ExperimentRun]
        do {
            runs = try Experiment.run(config, trainSet: trainSet, testSet: testSet, out: dir,
                                      dataDescription: ["source": options.source.jsonString()], group: group,
                                      prepare: { trainer, mode, seed in
            let done = trainer.checkpointEpochs().max() ?? 0
            if done < config.training.epochs {
                print("\(mode) seed \(seed): training epochs \(done + 1)…\(config.training.epochs) in \(trainer.runDirectory.path)")
            }
            // Several ranks print to one terminal: epoch lines only, no live status line.
            if group.size > 1 {
                trainer.onEpoch = { print("  \(mode) seed \(seed) " + describe($0)) }
                trainer.shouldStop = { Interrupt.requested }
            } else {
                showProgress(of: trainer, status: status, label: "\(mode) seed \(seed)")
            }
        }) { print($0) }
        } catch let stop as TrainingInterrupted {
            throw ExperimentInterrupted(epoch: stop.epoch, batch: stop.batch)
        }
        guard group.isLeader else { return }
        print("\n" + (try String(contentsOf: dir.appendingPathComponent("table1.md"), encoding: .utf8)))
        print("\(runs.count) runs; reports in \(dir.path) (table1.md, table1.csv, runs.csv, fig3.csv, fig3.svg)")
        if case .joint(let framing) = options.source, !faultFolders.isEmpty {
            let sets = try faultFolders.map { try FaultTestSet.load(folder: $0, framing: framing) }
            let rows = try FaultEvaluation.evaluate(runs: runs, weights: { mode, seed in
                dir.appendingPathComponent(mode.rawValue).appendingPathComponent("seed-\(seed)")
                    .appendingPathComponent("weights.safetensors")
            }, sets: sets, batchSize: options.training.batchSize, limit: faultLimit) { print($0) }
            try FaultEvaluation.writeReports(rows, clean: runs, to: dir)
            print("\n" + (try String(contentsOf: dir.appendingPathComponent("faults.md"), encoding: .utf8)))
            print("fault reports in \(dir.path) (faults.md, faults.csv, faults.svg)")
        }
    }
}

/// Ctrl-C during `spikefuse experiment`: how to continue (the same command, not `--resume`).
struct ExperimentInterrupted: Error, CustomStringConvertible {
    let epoch: Int, batch: Int
    var description: String {
        "interrupted in epoch \(epoch) after batch \(batch); the same command again continues every "
            + "unfinished run from its last checkpoint"
    }
}
