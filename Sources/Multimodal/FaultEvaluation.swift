import Foundation

/// A test set with failing sensors: the test split of a folder written by
/// `spikefuse synth --corrupt P --corrupt-split test` (same seed as the training data, so its
/// training split — and therefore every trained network — is the clean set's).
public struct FaultTestSet {
    /// Shown in reports, e.g. "corrupt 0.2".
    public var name: String
    /// Fraction P of pairs with one sensor degraded (the manifest's `corruptFraction`).
    public var fraction: Double
    public var dataset: JointDataset
    /// Which samples had which sensor degraded; nil = all clean.
    public var conditions: CorruptionConditions?

    public init(name: String, fraction: Double, dataset: JointDataset, conditions: CorruptionConditions?) {
        self.name = name; self.fraction = fraction; self.dataset = dataset; self.conditions = conditions
    }

    /// The test split of `folder` (grabbed_data*, n-tidigits.hdf5, manifest.json), framed as
    /// `framing` frames the training data (its paths are replaced by the folder's).
    public static func load(folder: URL, framing: JointDatasetConfiguration) throws -> FaultTestSet {
        var c = framing
        c.mnistDVSRoot = folder.path
        c.ntidigitsFile = folder.appendingPathComponent("n-tidigits.hdf5").path
        guard let manifest = try CorruptionConditions.manifest(folder: folder) else {
            throw CheckpointError.invalid(folder.appendingPathComponent("manifest.json").path,
                                          "missing: a fault test set is a folder written by `spikefuse synth --corrupt P`")
        }
        let (_, test) = try JointDataset.load(c)
        return FaultTestSet(name: String(format: "corrupt %g", manifest.corruptFraction), fraction: manifest.corruptFraction,
                            dataset: test, conditions: CorruptionConditions(manifest: manifest))
    }
}

/// One line of the fault report: a mode on one faulty test set, restricted to one condition
/// ("all", "clean", "visual corrupted", "audio corrupted"), over the seeds of the protocol.
public struct FaultRow: Sendable, Equatable {
    public var set: String
    public var fraction: Double
    public var mode: TrainingMode
    public var condition: String
    /// Samples per seed in this condition.
    public var samples: Int
    /// Accuracy (%) of the mode's deciding head (fusion, or its only head), one per seed.
    public var accuracies: [Double]
    /// Mean (w_v, w_a) over seeds, samples and timesteps (attention mode only).
    public var attention: [Double]?
}

/// Attention under sensor faults (issue: "does the attention move to the reliable modality?"):
/// every finished run of a protocol, evaluated on faulty test sets, condition by condition.
public enum FaultEvaluation {
    public static let conditionOrder = ["all", "clean", "visual corrupted", "audio corrupted", "both corrupted"]

    /// Evaluates the weights of every run (`weights(mode, seed)`) on every set. `limit`
    /// evaluates N test samples spread evenly over each set (nil = all).
    public static func evaluate(runs: [ExperimentRun], weights: (TrainingMode, UInt64) -> URL,
                                sets: [FaultTestSet], batchSize: Int, limit: Int?,
                                log: (String) -> Void = { _ in }) throws -> [FaultRow] {
        var rows: [FaultRow] = []
        for set in sets {
            for mode in TrainingMode.allCases {
                let modeRuns = runs.filter { $0.mode == mode }
                guard !modeRuns.isEmpty else { continue }
                var perCondition: [String: (samples: Int, accuracies: [Double], wv: Double, wa: Double)] = [:]
                for run in modeRuns {
                    let url = weights(mode, run.seed)
                    let checkpoint = try Checkpoint.read(url)
                    let network = try MultimodalNetwork(checkpoint.configuration, seed: 0)
                    try network.load(checkpoint.tensors, source: url.path)
                    let groups = try evaluateByCondition(network, on: set.dataset, batchSize: batchSize, limit: limit) {
                        set.conditions?.condition($0, in: set.dataset) ?? "clean"
                    }
                    var samples = 0, correct = 0.0, wv = 0.0, wa = 0.0
                    for (name, g) in groups {
                        let acc = Experiment.decisive(visual: g.visual, audio: g.audio, fusion: g.fusion, mode: mode)
                        correct += acc * Double(g.samples); samples += g.samples
                        wv += (g.attention?[0] ?? 0) * Double(g.samples); wa += (g.attention?[1] ?? 0) * Double(g.samples)
                        perCondition[name, default: (g.samples, [], 0, 0)].accuracies.append(acc)
                        perCondition[name]!.wv += g.attention?[0] ?? 0
                        perCondition[name]!.wa += g.attention?[1] ?? 0
                    }
                    let n = Double(max(samples, 1))
                    perCondition["all", default: (samples, [], 0, 0)].accuracies.append(correct / n)
                    perCondition["all"]!.wv += wv / n
                    perCondition["all"]!.wa += wa / n
                    log(String(format: "%@ on %@, seed %llu: %.2f %%", mode.rawValue, set.name, run.seed, correct / n))
                }
                for name in conditionOrder {
                    guard let c = perCondition[name] else { continue }
                    let k = Double(c.accuracies.count)
                    rows.append(FaultRow(set: set.name, fraction: set.fraction, mode: mode, condition: name,
                                         samples: c.samples, accuracies: c.accuracies,
                                         attention: mode == .multimodal ? [c.wv / k, c.wa / k] : nil))
                }
            }
        }
        return rows
    }

    /// Writes `faults.md`, `faults.csv`, `faults.svg` (accuracy against the fraction of
    /// faulty pairs, one line per mode, mean and min–max over seeds; fraction 0 is the
    /// protocol's clean test accuracy from `clean`) and `faults-attention.svg` (the attention
    /// model's mean w_v and w_a per set and condition, as bars).
    public static func writeReports(_ rows: [FaultRow], clean: [ExperimentRun], to out: URL) throws {
        var md = "| Test set | Mode | Condition | Samples | Mean (%) | Std | w_v | w_a |\n|---|---|---|---|---|---|---|---|\n"
        var csv = "set,fraction,mode,condition,samples,runs,mean,std,min,max,w_v,w_a\n"
        for r in rows {
            let (mean, std) = Experiment.meanAndSampleStd(r.accuracies)
            let w = r.attention.map { (String(format: "%.3f", $0[0]), String(format: "%.3f", $0[1])) } ?? ("–", "–")
            md += String(format: "| %@ | %@ | %@ | %d | %.2f | %.2f | %@ | %@ |\n", r.set, r.mode.rawValue, r.condition,
                         r.samples, mean, std, w.0, w.1)
            csv += String(format: "%@,%.3f,%@,%@,%d,%d,%.4f,%.4f,%.4f,%.4f,%@,%@\n", r.set, r.fraction, r.mode.rawValue,
                          r.condition, r.samples, r.accuracies.count, mean, std, r.accuracies.min() ?? 0,
                          r.accuracies.max() ?? 0, r.attention.map { String(format: "%.4f", $0[0]) } ?? "",
                          r.attention.map { String(format: "%.4f", $0[1]) } ?? "")
        }
        try writeAtomically(Data(md.utf8), to: out.appendingPathComponent("faults.md"))
        try writeAtomically(Data(csv.utf8), to: out.appendingPathComponent("faults.csv"))

        var series: [SVGPlot.Series] = []
        for (k, mode) in TrainingMode.allCases.enumerated() {
            let cleanAcc = clean.filter { $0.mode == mode }.map(\.finalAccuracy)
            let faulty = rows.filter { $0.mode == mode && $0.condition == "all" }.sorted { $0.fraction < $1.fraction }
            guard !cleanAcc.isEmpty || !faulty.isEmpty else { continue }
            var points: [(Double, Double)] = [], band: [(low: Double, high: Double)] = []
            if !cleanAcc.isEmpty {
                points.append((0, Experiment.meanAndSampleStd(cleanAcc).0)); band.append((cleanAcc.min()!, cleanAcc.max()!))
            }
            for r in faulty {
                points.append((r.fraction, Experiment.meanAndSampleStd(r.accuracies).0))
                band.append((r.accuracies.min()!, r.accuracies.max()!))
            }
            series.append(SVGPlot.Series(name: mode.rawValue, points: points,
                                         color: SVGPlot.palette[k % SVGPlot.palette.count], band: band))
        }
        let svg = SVGPlot.lines(series: series, title: "Test accuracy with failing sensors (mean, min–max over seeds)",
                                xLabel: "fraction of test pairs with one sensor degraded", yLabel: "test accuracy (%)")
        try writeAtomically(Data(svg.utf8), to: out.appendingPathComponent("faults.svg"))

        // Where the attention goes: mean (w_v, w_a) of the attention model per set and condition.
        let attention = rows.filter { $0.mode == .multimodal && $0.condition != "all" && $0.attention != nil }
        if !attention.isEmpty {
            let groups = attention.map { "\($0.set): \($0.condition.replacingOccurrences(of: " corrupted", with: " bad"))" }
            let bars = SVGPlot.bars(groups: groups, series: [
                ("w_v (visual)", SVGPlot.palette[0], attention.map { $0.attention![0] }),
                ("w_a (audio)", SVGPlot.palette[1], attention.map { $0.attention![1] }),
            ], title: "Attention weights of the multimodal model per test condition (mean over seeds)",
               yLabel: "mean attention weight", width: max(640, 165 * groups.count))
            try writeAtomically(Data(bars.utf8), to: out.appendingPathComponent("faults-attention.svg"))
        }
    }
}
