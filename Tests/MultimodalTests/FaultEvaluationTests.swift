import XCTest
@testable import Multimodal

/// `experiment --faults`: every run evaluated on faulty test sets, per condition.
final class FaultEvaluationTests: XCTestCase {
    func testRunsAreEvaluatedPerConditionAndReported() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("faults-\(UUID())")
        defer { try? FileManager.default.removeItem(at: root) }
        let clean = root.appendingPathComponent("clean"), faulty = root.appendingPathComponent("faulty")
        try DatasetSynthesis.write(pairs: 40, seed: 5, sources: .init(), corruptFraction: 0, corruptSplits: [.test], to: clean)
        try DatasetSynthesis.write(pairs: 40, seed: 5, sources: .init(), corruptFraction: 0.5, corruptSplits: [.test], to: faulty)
        var framing = JointDatasetConfiguration(dataFolder: clean)
        framing.showProgress = false
        framing.timesteps = 8
        framing.cacheDirectory = root.appendingPathComponent("cache").path
        let (train, test) = try JointDataset.load(framing)

        var config = ExperimentConfiguration()
        config.modes = [.multimodal, .visual]
        config.repeats = 2
        config.model = DataSource.joint(framing).fitting(ModelConfiguration())
        config.model.visualChannels = [4, 4]; config.model.visualHidden = 16
        config.model.audioHidden = 16; config.model.fusionHidden = 8
        config.training.epochs = 1; config.training.batchSize = 8
        let out = root.appendingPathComponent("exp")
        let runs = try Experiment.run(config, trainSet: train, testSet: test, out: out, dataDescription: [:]) { _ in }

        let sets = [try FaultTestSet.load(folder: clean, framing: framing), try FaultTestSet.load(folder: faulty, framing: framing)]
        XCTAssertNil(sets[0].conditions)
        XCTAssertEqual(sets[1].fraction, 0.5)
        let rows = try FaultEvaluation.evaluate(runs: runs, weights: { mode, seed in
            out.appendingPathComponent(mode.rawValue).appendingPathComponent("seed-\(seed)").appendingPathComponent("weights.safetensors")
        }, sets: sets, batchSize: 8, limit: nil)

        // On the clean folder, "all" reproduces the protocol's own final test accuracy per seed.
        for mode in config.modes {
            let row = try XCTUnwrap(rows.first { $0.set == sets[0].name && $0.mode == mode && $0.condition == "all" })
            let expected = runs.filter { $0.mode == mode }.map(\.finalAccuracy)
            for (a, b) in zip(row.accuracies, expected) { XCTAssertEqual(a, b, accuracy: 1e-9, "\(mode)") }
            XCTAssertEqual(row.attention != nil, mode == .multimodal)
        }
        // On the faulty folder: "all" is the sample-weighted mean of the conditions, per seed.
        for mode in config.modes {
            let ofMode = rows.filter { $0.set == sets[1].name && $0.mode == mode }
            let all = try XCTUnwrap(ofMode.first { $0.condition == "all" })
            let parts = ofMode.filter { $0.condition != "all" }
            XCTAssertTrue(parts.contains { $0.condition != "clean" }, "the faulty set has corrupted samples")
            XCTAssertEqual(parts.map(\.samples).reduce(0, +), all.samples)
            for seed in 0..<2 {
                let weighted = parts.reduce(0.0) { $0 + $1.accuracies[seed] * Double($1.samples) } / Double(all.samples)
                XCTAssertEqual(all.accuracies[seed], weighted, accuracy: 1e-9)
            }
        }
        try FaultEvaluation.writeReports(rows, clean: runs, to: out)
        let csv = try String(contentsOf: out.appendingPathComponent("faults.csv"), encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 1 + rows.count)
        let svg = try String(contentsOf: out.appendingPathComponent("faults.svg"), encoding: .utf8)
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2, "one line per mode")
        let bars = try String(contentsOf: out.appendingPathComponent("faults-attention.svg"), encoding: .utf8)
        let attentionGroups = rows.filter { $0.mode == .multimodal && $0.condition != "all" }.count
        // background + plot frame + 2 bars per group + 2 legend swatches
        XCTAssertEqual(bars.components(separatedBy: "<rect").count - 1, 2 + 2 * attentionGroups + 2)
    }
}
