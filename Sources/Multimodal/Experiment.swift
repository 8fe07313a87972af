import Foundation

/// The paper's protocol (§3.2–3.4): every mode trained `repeats` times with different
/// seeds, then Table 1 (mean, standard deviation and best test accuracy per mode) and
/// Fig. 3 (test accuracy per epoch, with vs without attention).
public struct ExperimentConfiguration: Sendable {
    public var modes: [TrainingMode] = TrainingMode.allCases
    public var repeats = 5
    /// Seeds are `firstSeed, firstSeed + 1, …`.
    public var firstSeed: UInt64 = 1
    public var model = ModelConfiguration()
    public var training = TrainingConfiguration()
    public init() {}
}

/// One finished run of the protocol.
public struct ExperimentRun: Sendable {
    public var mode: TrainingMode
    public var seed: UInt64
    public var metrics: [EpochMetrics]
    public var seconds: Double
    public init(mode: TrainingMode, seed: UInt64, metrics: [EpochMetrics], seconds: Double) {
        self.mode = mode; self.seed = seed; self.metrics = metrics; self.seconds = seconds
    }
    /// `seconds` from the metrics (training and testing of every epoch), so a run finished
    /// across several invocations counts all of them.
    public init(mode: TrainingMode, seed: UInt64, metrics: [EpochMetrics]) {
        self.init(mode: mode, seed: seed, metrics: metrics, seconds: metrics.reduce(0) { $0 + $1.trainSeconds + $1.testSeconds })
    }
    /// Test accuracy of the mode's deciding head after the last epoch.
    public var finalAccuracy: Double {
        guard let m = metrics.last else { return 0 }
        return Experiment.decisiveAccuracy(m, mode: mode)
    }
}

public enum Experiment {
    /// The accuracy the mode is judged by: fusion for multimodal modes, else its only head.
    public static func decisiveAccuracy(_ m: EpochMetrics, mode: TrainingMode) -> Double {
        decisive(visual: m.testVisual, audio: m.testAudio, fusion: m.testFusion, mode: mode)
    }

    /// The deciding head's accuracy among the heads' (nil = the mode lacks that head).
    public static func decisive(visual: Double?, audio: Double?, fusion: Double?, mode: TrainingMode) -> Double {
        switch mode {
        case .multimodal, .multimodalNoAttention: return fusion ?? 0
        case .visual: return visual ?? 0
        case .audio: return audio ?? 0
        }
    }

    /// Runs every (mode, seed) into `out/<mode>/seed-<s>/`, resuming finished or
    /// interrupted runs, then writes the reports. Returns the runs. `prepare` sees each
    /// run's trainer before it starts (to show progress, or to stop it).
    ///
    /// With several ranks (`group`, e.g. `mpirun -np N spikefuse experiment`) the runs are
    /// independent jobs spread over the ranks: run k of the list below goes to rank k mod N and
    /// trains there alone (the same weights as in a one-process protocol). Rank 0 then reads
    /// every run's metrics from its directory, writes the reports and returns all runs; the
    /// other ranks return only their own.
    public static func run(_ config: ExperimentConfiguration, trainSet: AudioVisualDataset,
                           testSet: AudioVisualDataset, out: URL, dataDescription: [String: String],
                           group: ProcessGroup = SingleProcess(),
                           prepare: (Trainer, TrainingMode, UInt64) -> Void = { _, _, _ in },
                           log: (String) -> Void) throws -> [ExperimentRun] {
        var runs: [ExperimentRun] = []
        var all: [(mode: TrainingMode, seed: UInt64, dir: URL)] = []
        // Seed by seed, every mode of a seed before the next seed, so a protocol stopped
        // part-way has comparable modes for the seeds it finished.
        for r in 0..<config.repeats {
            let seed = config.firstSeed + UInt64(r)
            for mode in config.modes {
                let dir = out.appendingPathComponent(mode.rawValue).appendingPathComponent("seed-\(seed)")
                all.append((mode, seed, dir))
                guard (all.count - 1) % group.size == group.rank else { continue }
                var model = config.model
                model.mode = mode
                var training = config.training
                training.seed = seed
                let trainer = try Trainer(model: model, training: training, trainSet: trainSet, testSet: testSet,
                                          runDirectory: dir, dataDescription: dataDescription)
                let hasCheckpoint = !(trainer.checkpointEpochs().isEmpty)
                prepare(trainer, mode, seed)
                let run = ExperimentRun(mode: mode, seed: seed, metrics: try trainer.run(resume: hasCheckpoint))
                runs.append(run)
                log(String(format: "%@ seed %llu: %.2f %% (%.0f s)", mode.rawValue, seed, run.finalAccuracy, run.seconds))
            }
        }
        guard group.size > 1 else {
            try writeReports(runs, to: out)
            return runs
        }
        group.barrier()                 // every rank's runs are finished and on disk
        guard group.isLeader else { return runs }
        let everyRun = try all.map { mode, seed, dir in
            ExperimentRun(mode: mode, seed: seed, metrics: try RunDirectory(dir).readMetrics())
        }
        try writeReports(everyRun, to: out)
        return everyRun
    }

    /// The runs an experiment folder holds (`out/<mode>/seed-<s>/metrics.jsonl`), mode by mode in
    /// `TrainingMode` order, seeds ascending; runs without a finished epoch are left out.
    public static func readRuns(in out: URL) throws -> [ExperimentRun] {
        var runs: [ExperimentRun] = []
        for mode in TrainingMode.allCases {
            let folder = out.appendingPathComponent(mode.rawValue)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            let seeds = names.compactMap { $0.hasPrefix("seed-") ? UInt64($0.dropFirst(5)) : nil }.sorted()
            for seed in seeds {
                let metrics = try RunDirectory(folder.appendingPathComponent("seed-\(seed)")).readMetrics()
                if !metrics.isEmpty { runs.append(ExperimentRun(mode: mode, seed: seed, metrics: metrics)) }
            }
        }
        return runs
    }

    /// Table 1 rows: (mode, mean, std, best) of the final test accuracy over repeats.
    public static func table(_ runs: [ExperimentRun]) -> [(mode: TrainingMode, mean: Double, std: Double, best: Double, n: Int)] {
        TrainingMode.allCases.compactMap { mode in
            let acc = runs.filter { $0.mode == mode }.map(\.finalAccuracy)
            guard !acc.isEmpty else { return nil }
            let (mean, std) = meanAndSampleStd(acc)
            return (mode, mean, std, acc.max()!, acc.count)
        }
    }

    /// Mean and sample standard deviation (n − 1; 0 for a single value).
    public static func meanAndSampleStd(_ x: [Double]) -> (Double, Double) {
        let mean = x.reduce(0, +) / Double(x.count)
        guard x.count > 1 else { return (mean, 0) }
        let v = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count - 1)
        return (mean, v.squareRoot())
    }

    /// Writes `table1.md`, `table1.csv`, `runs.csv`, `fig3.csv` and `fig3.svg` into `out`.
    public static func writeReports(_ runs: [ExperimentRun], to out: URL) throws {
        let rows = table(runs)
        var md = "| Mode | Runs | Mean (%) | Std | Best (%) |\n|---|---|---|---|---|\n"
        var csv = "mode,runs,mean,std,best\n"
        for r in rows {
            md += String(format: "| %@ | %d | %.2f | %.2f | %.2f |\n", r.mode.rawValue, r.n, r.mean, r.std, r.best)
            csv += String(format: "%@,%d,%.4f,%.4f,%.4f\n", r.mode.rawValue, r.n, r.mean, r.std, r.best)
        }
        try writeAtomically(Data(md.utf8), to: out.appendingPathComponent("table1.md"))
        try writeAtomically(Data(csv.utf8), to: out.appendingPathComponent("table1.csv"))

        // Every run: final accuracy of each head, best epoch, mean attention, wall time, and the
        // classes whose deciding output neuron fired no spike on the test set (space-separated).
        var each = "mode,seed,epochs,final,best,best_epoch,visual,audio,fusion,w_v,w_a,seconds,silent_outputs\n"
        func cell(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "" }
        for run in runs {
            guard let last = run.metrics.last else { continue }
            let accuracies = run.metrics.map { decisiveAccuracy($0, mode: run.mode) }
            let best = accuracies.enumerated().max { $0.element < $1.element }!
            each += "\(run.mode.rawValue),\(run.seed),\(run.metrics.count),\(cell(run.finalAccuracy)),"
                + "\(cell(best.element)),\(best.offset + 1),\(cell(last.testVisual)),\(cell(last.testAudio)),"
                + "\(cell(last.testFusion)),\(cell(last.attention?[0])),\(cell(last.attention?[1])),"
                + String(format: "%.0f,", run.seconds)
                + (last.silentOutputs ?? []).map(String.init).joined(separator: " ") + "\n"
        }
        try writeAtomically(Data(each.utf8), to: out.appendingPathComponent("runs.csv"))

        let (fig, svg) = figure3(runs)
        try writeAtomically(Data(fig.utf8), to: out.appendingPathComponent("fig3.csv"))
        try writeAtomically(Data(svg.utf8), to: out.appendingPathComponent("fig3.svg"))
    }

    /// Fig. 3: per-epoch test accuracy of each mode, mean and spread (min, max) over repeats,
    /// as CSV (mode, epoch, mean, min, max) and as an SVG plot.
    public static func figure3(_ runs: [ExperimentRun]) -> (csv: String, svg: String) {
        var curves: [(name: String, mean: [Double], low: [Double], high: [Double])] = []
        var fig = "mode,epoch,mean,min,max\n"
        for mode in TrainingMode.allCases {
            let rs = runs.filter { $0.mode == mode }
            guard let epochs = rs.map(\.metrics.count).min(), epochs > 0 else { continue }
            var mean: [Double] = [], low: [Double] = [], high: [Double] = []
            for e in 0..<epochs {
                let acc = rs.map { decisiveAccuracy($0.metrics[e], mode: mode) }
                mean.append(acc.reduce(0, +) / Double(acc.count)); low.append(acc.min()!); high.append(acc.max()!)
                fig += String(format: "%@,%d,%.4f,%.4f,%.4f\n", mode.rawValue, e + 1, mean[e], low[e], high[e])
            }
            curves.append((mode.rawValue, mean, low, high))
        }
        let svg = SVGPlot.lines(
            series: curves.enumerated().map { k, c in
                SVGPlot.Series(name: c.name, points: c.mean.enumerated().map { (Double($0 + 1), $1) },
                               color: SVGPlot.palette[k % SVGPlot.palette.count],
                               band: Array(zip(c.low, c.high).map { (low: $0, high: $1) }))
            },
            title: "Test accuracy per epoch (mean, min–max over seeds)", xLabel: "epoch", yLabel: "test accuracy (%)")
        return (fig, svg)
    }
}
