import Foundation
import Multimodal

/// `spikefuse report RUN_OR_EXPERIMENT_DIR [--out report.html]`: one self-contained HTML page
/// (`RunReport`) about a run directory or an experiment folder.
enum ReportCommand {
    static let command = Command(summary: "one HTML page of a run or experiment: curves, confusion, rasters", run: run)

    static let help = """
    usage: spikefuse report RUN_DIR|EXPERIMENT_DIR [--out FILE] [--sample N]

    Writes one self-contained HTML file (inline SVG, no script, nothing fetched) that any
    browser opens offline: loss and accuracy per head, confusion matrices as heat maps,
    attention weights per class and over time steps, firing rates and never-firing neurons per
    layer over epochs, gradient norms, and one test sample as rasters through the network
    (input, every spiking layer, output). For an experiment folder (`spikefuse experiment`):
    Table 1, Fig. 3 and every run, then the first run in detail. docs/reports.md explains
    each chart. Training also writes TensorBoard logs: tensorboard --logdir RUN_DIR.

      --out FILE   the page (default: report.html in the folder)
      --sample N   which test sample the rasters show (0)
    """

    static func run(_ arguments: [String]) throws {
        var a = Arguments(arguments)
        if a.wantsHelp { print(help); return }
        let outPath = try a.string("out")
        let sample = try a.int("sample") ?? 0
        try a.finish()
        guard a.positional.count == 1, let target = a.positional.first else { throw UsageError("report needs one RUN_DIR or EXPERIMENT_DIR") }
        guard sample >= 0 else { throw UsageError("--sample must be at least 0") }
        let folder = URL(fileURLWithPath: target)
        let out = outPath.map { URL(fileURLWithPath: $0) } ?? folder.appendingPathComponent("report.html")
        try write(folder, sample: sample, to: out)
        print("wrote \(out.path)")
    }

    /// Writes the report of `folder` (a run directory or an experiment folder) to `out`, atomically.
    static func write(_ folder: URL, sample: Int = 0, to out: URL) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw UsageError("\(folder.path): no such folder (a run directory or an experiment folder)")
        }
        let run = RunDirectory(folder)
        let html: String
        if FileManager.default.fileExists(atPath: run.configURL.path) {
            let (summary, sections) = try runSections(run, sample: sample)
            html = RunReport.page(title: "SpikeFuse run \(folder.lastPathComponent)", summary: summary, sections: sections)
        } else {
            let runs = try Experiment.readRuns(in: folder)
            guard let first = runs.first else {
                throw UsageError("\(folder.path): neither a run directory (no config.json) nor an experiment folder "
                                 + "(no <mode>/seed-<s>/metrics.jsonl with a finished epoch)")
            }
            let detail = RunDirectory(folder.appendingPathComponent(first.mode.rawValue).appendingPathComponent("seed-\(first.seed)"))
            let (summary, sections) = try runSections(detail, sample: sample)
            html = RunReport.page(title: "SpikeFuse experiment \(folder.lastPathComponent)",
                                  summary: "\(runs.count) runs. In detail below: \(first.mode.rawValue), seed \(first.seed) — \(summary)",
                                  sections: RunReport.experimentSections(runs)
                                    + sections.map { RunReport.Section("\(first.mode.rawValue) seed \(first.seed): \($0.title)", $0.html) })
        }
        try writeAtomically(Data(html.utf8), to: out)
    }

    /// The sections of one run, and a one-line summary. The sample rasters need the run's data;
    /// when it cannot be read, that section says why instead.
    static func runSections(_ run: RunDirectory, sample: Int) throws -> (String, [RunReport.Section]) {
        let config = try run.readConfiguration()
        let metrics = try run.readMetrics()
        var summary = "Mode \(config.model.mode)" + (config.model.network.map { ", network \($0.name)" } ?? "")
            + ", \(metrics.count) of \(config.training.epochs) epochs"
        if let last = metrics.last {
            summary += "; after epoch \(last.epoch): " + [("visual", last.testVisual), ("auditory", last.testAudio), ("fused", last.testFusion)]
                .compactMap { name, v in v.map { String(format: "%@ %.2f %%", name, $0) } }.joined(separator: ", ")
        }
        if let source = config.data["source"].flatMap({ try? DataSource.fromJSON($0, source: run.configURL.path) }) {
            summary += ". Data: \(source.location)."
        }
        var sections = RunReport.metricSections(metrics)
        do {
            let network = try TrainedNetwork(run.url.path).network
            let (_, testSet) = try run.readDataSource().datasets()
            guard sample < testSet.count else { throw UsageError("--sample \(sample): the test set has \(testSet.count) samples") }
            sections += try RunReport.sampleSections(network, testSet: testSet, sample: sample)
        } catch let error as UsageError {
            throw error
        } catch {
            sections.append(.init("One test sample through the network", "<p class=\"note\">Not drawn: "
                + RunReport.escape("\(error)") + "</p>\n"))
        }
        return (summary, sections)
    }
}
