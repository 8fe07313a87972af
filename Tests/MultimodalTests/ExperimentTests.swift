import XCTest
@testable import Multimodal

final class ExperimentTests: XCTestCase {
    /// Hand-worked: values 90, 92, 94 → mean 92, sample variance ((−2)² + 0 + 2²)/(3 − 1) = 4, std 2.
    func testMeanAndSampleStandardDeviation() {
        let (mean, std) = Experiment.meanAndSampleStd([90, 92, 94])
        XCTAssertEqual(mean, 92, accuracy: 1e-12)
        XCTAssertEqual(std, 2, accuracy: 1e-12)
        XCTAssertEqual(Experiment.meanAndSampleStd([5]).1, 0)
    }

    func testProtocolWritesTable1AndFigure3() throws {
        var data = SyntheticDatasetConfiguration()
        data.trainCount = 64
        data.testCount = 32
        let train = SyntheticDataset(data, split: .train), test = SyntheticDataset(data, split: .test)
        var config = ExperimentConfiguration()
        config.modes = [.visual, .multimodal]
        config.repeats = 2
        config.model = train.modelConfiguration(mode: .multimodal)
        config.training.epochs = 2
        config.training.batchSize = 16
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("exp-\(UUID())")
        defer { try? FileManager.default.removeItem(at: out) }
        var lines: [String] = []
        let runs = try Experiment.run(config, trainSet: train, testSet: test, out: out, dataDescription: [:]) { lines.append($0) }
        XCTAssertEqual(runs.count, 4)
        XCTAssertEqual(Set(runs.map(\.seed)), [1, 2])
        XCTAssertEqual(lines.count, 4)
        // Seed-major: both modes of seed 1 before seed 2.
        XCTAssertEqual(runs.map(\.seed), [1, 1, 2, 2])
        XCTAssertEqual(runs.map(\.mode), [.visual, .multimodal, .visual, .multimodal])
        // Wall time comes from the metrics (so it survives resumes).
        for run in runs {
            XCTAssertEqual(run.seconds, run.metrics.reduce(0) { $0 + $1.trainSeconds + $1.testSeconds }, accuracy: 1e-9)
        }
        let each = try String(contentsOf: out.appendingPathComponent("runs.csv"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        XCTAssertEqual(each.count, 1 + 4)
        for (row, run) in zip(each.dropFirst(), runs) {
            XCTAssertEqual(String(row[0]), run.mode.rawValue); XCTAssertEqual(String(row[1]), "\(run.seed)")
            XCTAssertEqual(Double(row[3])!, run.finalAccuracy, accuracy: 1e-3)
            let best = run.metrics.map { Experiment.decisiveAccuracy($0, mode: run.mode) }.max()!
            XCTAssertEqual(Double(row[4])!, best, accuracy: 1e-3)
            XCTAssertEqual(row[9].isEmpty, run.mode != .multimodal, "w_v only for the attention model")
            XCTAssertEqual(row.count, 13)
            XCTAssertEqual(String(row[12]), (run.metrics.last?.silentOutputs ?? []).map(String.init).joined(separator: " "))
        }

        let table = try String(contentsOf: out.appendingPathComponent("table1.csv"), encoding: .utf8)
        let rows = table.split(separator: "\n").dropFirst().map { $0.split(separator: ",") }
        XCTAssertEqual(rows.map { String($0[0]) }, ["multimodal", "visual"])
        for row in rows {
            XCTAssertEqual(row[1], "2")
            let mode = TrainingMode(rawValue: String(row[0]))!
            let acc = runs.filter { $0.mode == mode }.map(\.finalAccuracy)
            XCTAssertEqual(Double(row[2])!, acc.reduce(0, +) / 2, accuracy: 1e-3)
            XCTAssertEqual(Double(row[4])!, acc.max()!, accuracy: 1e-3)
        }
        let fig = try String(contentsOf: out.appendingPathComponent("fig3.csv"), encoding: .utf8)
        XCTAssertEqual(fig.split(separator: "\n").count, 1 + 2 * 2, "header + 2 modes × 2 epochs")
        let svg = try String(contentsOf: out.appendingPathComponent("fig3.svg"), encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg") && svg.contains("</svg>") && svg.contains("multimodal"))
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2, "one curve per mode")

        // Running again resumes the finished runs instead of training anew.
        let again = try Experiment.run(config, trainSet: train, testSet: test, out: out, dataDescription: [:]) { _ in }
        XCTAssertEqual(again.map(\.finalAccuracy), runs.map(\.finalAccuracy))
    }

    func testEvaluateJSONOnARunDirectory() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID())")
        defer { try? FileManager.default.removeItem(at: out) }
        let train = try runSpikefuse(["train", "--mode", "multimodal", "--synthetic", "--epochs", "1",
                                       "--train-limit", "64", "--out", out.path])
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertTrue(train.stdout.contains("epoch 1"), train.stdout)
        let r = try runSpikefuse(["evaluate", out.path, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        for key in ["visual", "audio", "fusion"] {
            let acc = try XCTUnwrap(object[key] as? Double, key)
            XCTAssertTrue((0...100).contains(acc))
        }
        XCTAssertEqual((object["attention"] as? [Double])?.count, 2)
        // The accuracy matches the epoch's metrics line (same weights, same test set).
        let metrics = try readMetricsLines(try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8),
                                           source: "metrics")
        XCTAssertEqual(object["fusion"] as? Double, metrics.last?.testFusion)
        // What each spiking layer did: the same measure as the epoch's metrics line.
        let activity = try XCTUnwrap(object["activity"] as? [[String: Any]])
        XCTAssertEqual(activity.compactMap { $0["layer"] as? String }, metrics.last?.activity?.map(\.layer))
        XCTAssertEqual(activity.first?["firing_rate"] as? Double, metrics.last?.activity?.first?.firingRate)
        let text = try runSpikefuse(["evaluate", out.path])
        XCTAssertTrue(text.stdout.contains("in surrogate window") && text.stdout.contains("audio.rec1"), text.stdout)

        // Data given as --data=DIR replaces the run's own (it was once ignored): a missing
        // folder is then the error, named.
        let other = try runSpikefuse(["evaluate", out.path, "--data=/nonexistent/spikefuse-data"])
        XCTAssertNotEqual(other.status, 0)
        XCTAssertTrue(other.stderr.contains("/nonexistent/spikefuse-data"), other.stderr)

        // --save-outputs: every head's spikes per sample; their counts give the same accuracy.
        let saved = out.appendingPathComponent("outputs.safetensors")
        let s = try runSpikefuse(["evaluate", out.path, "--json", "--limit", "20", "--save-outputs", saved.path])
        XCTAssertEqual(s.status, 0, s.stderr)
        let file = try SafeTensors.read(saved)
        let visual = try file.tensor(named: "visual"), labels = try file.tensor(named: "label")
        XCTAssertEqual(visual.shape[0], 20)
        XCTAssertEqual(try file.tensor(named: "attention").shape, [20, visual.shape[1], 2])
        XCTAssertEqual(try file.tensor(named: "index").scalars, evenlySpreadIndices(count: 20, of: 256).map(Float.init),
                       "the evaluated samples, in order")
        let saidFused = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(s.stdout.utf8)) as? [String: Any])["fusion"] as? Double
        let fused = try file.tensor(named: "fusion")
        let predicted = SpikeRateLoss.predictions(swapLeadingAxes(fused))
        let correct = zip(predicted, labels.scalars).filter { Float($0) == $1 }.count
        XCTAssertEqual(saidFused, 100 * Double(correct) / 20, "the saved fused spikes give the printed accuracy")

        // --split train evaluates the training split; a wrong split is one clear error.
        let t = try runSpikefuse(["evaluate", out.path, "--split", "train", "--limit", "16"])
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertTrue(t.stdout.contains("16 train samples"), t.stdout)
        let bad = try runSpikefuse(["evaluate", out.path, "--split", "validation"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--split must be test or train"), bad.stderr)
        let nowhere = try runSpikefuse(["evaluate", out.path, "--save-outputs", "/nonexistent-folder/o.safetensors"])
        XCTAssertNotEqual(nowhere.status, 0)
        XCTAssertTrue(nowhere.stderr.contains("/nonexistent-folder"), nowhere.stderr)
    }

    /// `spikefuse experiment` shows each run's start and epochs, and the same command with a
    /// larger `--epochs` trains only the new epochs of every finished run.
    func testExperimentCommandShowsProgressAndExtendsRuns() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("sf-xcli-\(UUID())")
        defer { try? FileManager.default.removeItem(at: out) }
        let base = ["experiment", "--out", out.path, "--synthetic", "--modes", "visual", "--repeats", "1",
                    "--train-limit", "32", "--test-limit", "32", "--batch-size", "16"]
        let first = try runSpikefuse(base + ["--epochs", "1"])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("visual seed 1: training epochs 1…1 in "), first.stdout)
        XCTAssertTrue(first.stdout.contains("\n  epoch 1  loss "), first.stdout)
        let longer = try runSpikefuse(base + ["--epochs", "2"])
        XCTAssertEqual(longer.status, 0, longer.stderr)
        XCTAssertTrue(longer.stdout.contains("visual seed 1: training epochs 2…2 in "), longer.stdout)
        XCTAssertFalse(longer.stdout.contains("  epoch 1  loss "), longer.stdout)
        let metrics = try readMetricsLines(try String(contentsOf: out.appendingPathComponent("visual/seed-1/metrics.jsonl"),
                                                      encoding: .utf8), source: "metrics")
        XCTAssertEqual(metrics.map(\.epoch), [1, 2])
    }
}

/// `spikefuse export --nir` and `spikefuse import` (docs/interop.md) from the command line:
/// a trained auditory run exported, imported back, and evaluated to the run's own accuracy;
/// `import --check` reports the agreement with given spikes; errors name what is wrong.
final class NIRCommandLineTests: XCTestCase {
    func testExportImportEvaluateRoundTrip() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nir-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run"), graph = dir.appendingPathComponent("a.nir")
        let weights = dir.appendingPathComponent("imported.safetensors")
        let train = try runSpikefuse(["train", "--mode", "audio", "--synthetic", "--epochs", "1",
                                      "--train-limit", "64", "--out", run.path])
        XCTAssertEqual(train.status, 0, train.stderr)
        let export = try runSpikefuse(["export", run.path, "--nir", graph.path])
        XCTAssertEqual(export.status, 0, export.stderr)
        XCTAssertTrue(export.stdout.contains("NIR nodes"), export.stdout)
        let imported = try runSpikefuse(["import", graph.path, "--out", weights.path])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        let a = try runSpikefuse(["evaluate", run.path, "--json"])
        let b = try runSpikefuse(["evaluate", weights.path, "--synthetic", "--json"])
        XCTAssertEqual(b.status, 0, b.stderr)
        let accuracy = { (s: String) in (try? JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any])?["audio"] as? Double }
        XCTAssertNotNil(accuracy(a.stdout))
        XCTAssertEqual(accuracy(a.stdout), accuracy(b.stdout), "the imported network scores as the run does")

        // --check: the run's own output spikes on a batch agree on every entry.
        let checkpoint = try Checkpoint.read(run.appendingPathComponent("weights.safetensors"))
        let network = try MultimodalNetwork(checkpoint.configuration, seed: 0)
        try network.load(checkpoint.tensors, source: "run")
        var rng = SeededGenerator(seed: 5)
        let c = checkpoint.configuration
        let input = Tensor(shape: [c.timesteps, 3, c.audioChannels],
                           scalars: (0..<(c.timesteps * 3 * c.audioChannels)).map { _ in rng.nextUniform() < 0.3 ? 1 : 0 })
        let spikes = network.forward(visual: nil, audio: input).audio!
        let io = dir.appendingPathComponent("io.safetensors")
        try SafeTensors.write([("input", input), ("spikes", spikes)], to: io)
        let check = try runSpikefuse(["import", graph.path, "--check", io.path])
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertTrue(check.stdout.contains("100.000 %"), check.stdout)

        let missing = try runSpikefuse(["import", dir.appendingPathComponent("none.nir").path, "--out", weights.path])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("none.nir"), missing.stderr)
        let noTarget = try runSpikefuse(["export", run.path])
        XCTAssertTrue(noTarget.stderr.contains("--nir"), noTarget.stderr)
    }
}

/// N-MNIST and SHD through the command line (issue 20): files made by the project's writers
/// go through inspect → render → train (visual and audio) → evaluate.
final class CommunityDatasetCommandLineTests: XCTestCase {
    func testNMNISTAndSHDGoThroughInspectRenderTrainEvaluate() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("community-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SeededGenerator(seed: 12)
        // N-MNIST: per digit 2 training and 2 test recordings; events clustered by digit.
        for (split, count) in [("Train", 2), ("Test", 2)] {
            for digit in 0...9 {
                let folder = dir.appendingPathComponent("\(split)/\(digit)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                for i in 1...count {
                    var e = DVSEvents(sensor: NMNIST.sensor)
                    for k in 0..<400 {
                        e.t.append(Int64(k * 700)); e.polarity.append(UInt8(k % 2))
                        e.x.append(UInt16(min(33, 3 * digit + rng.nextInt(below: 4))))
                        e.y.append(UInt16(rng.nextInt(below: 34)))
                    }
                    try NMNIST.write(e, to: folder.appendingPathComponent(String(format: "%05d.bin", i)))
                }
            }
        }
        // SHD: labels 0…19 (German digits map to the same 10 classes), 2 samples each per file.
        for name in ["shd_train.h5", "shd_test.h5"] {
            var samples: [(label: Int, events: CochleaEvents)] = []
            for label in 0..<20 {
                for _ in 0..<2 {
                    var e = CochleaEvents(channelCount: 700)
                    for k in 0..<300 { e.t.append(Int64(k * 2000)); e.channel.append(UInt16(35 * (label % 10) + rng.nextInt(below: 30))) }
                    samples.append((label, e))
                }
            }
            try SHDFile.write(samples, to: dir.appendingPathComponent(name))
        }
        let folder = try runSpikefuse(["inspect", dir.path])
        XCTAssertEqual(folder.status, 0, folder.stderr)
        XCTAssertTrue(folder.stdout.contains("N-MNIST + SHD"), folder.stdout)
        let bin = try runSpikefuse(["inspect", dir.appendingPathComponent("Train/3/00001.bin").path, "--json"])
        XCTAssertTrue(bin.stdout.contains("N-MNIST") && bin.stdout.contains("\"label\":\"3\""), bin.stdout)
        let shd = try runSpikefuse(["inspect", dir.appendingPathComponent("shd_train.h5").path])
        XCTAssertTrue(shd.stdout.contains("SHD") && shd.stdout.contains("40 samples"), shd.stdout)
        let sample = try runSpikefuse(["inspect", dir.appendingPathComponent("shd_test.h5").path, "--key", "5"])
        XCTAssertTrue(sample.stdout.contains("700 channels"), sample.stdout + sample.stderr)
        for (file, key) in [("Train/3/00001.bin", nil), ("shd_train.h5", "3")] as [(String, String?)] {
            let png = dir.appendingPathComponent("\(UUID()).png")
            let r = try runSpikefuse(["render", dir.appendingPathComponent(file).path, "--out", png.path] + (key.map { ["--key", $0] } ?? []))
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(FileManager.default.fileExists(atPath: png.path))
        }
        for mode in ["visual", "audio"] {
            let run = dir.appendingPathComponent("run-\(mode)")
            let t = try runSpikefuse(["train", "--mode", mode, "--data", dir.path, "--epochs", "1", "--timesteps", "8",
                                      "--cache", "none", "--config", "{\"audio_hidden\": 16, \"visual_hidden\": 16}", "--out", run.path])
            XCTAssertEqual(t.status, 0, t.stderr)
            let e = try runSpikefuse(["evaluate", run.path, "--json"])
            XCTAssertEqual(e.status, 0, e.stderr)
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any])
            XCTAssertNotNil(object[mode] as? Double, e.stdout)
            XCTAssertEqual(object["samples"] as? Int, 20, "the joint test split: half of the 4 recordings per class")
        }
        // --split hdf5: the sets' own splits (N-MNIST's Test folders, shd_test.h5).
        let own = dir.appendingPathComponent("run-own")
        let t = try runSpikefuse(["train", "--mode", "visual", "--data", dir.path, "--epochs", "1", "--timesteps", "8",
                                  "--split", "hdf5", "--cache", "none", "--config", "{\"visual_hidden\": 16}", "--out", own.path])
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertTrue(t.stdout.contains("training visual on 20 samples, testing on 20"), t.stdout)
        // The limits show in the start-up line.
        let limited = try runSpikefuse(["train", "--mode", "visual", "--data", dir.path, "--epochs", "1", "--timesteps", "8",
                                        "--split", "hdf5", "--cache", "none", "--config", "{\"visual_hidden\": 16}",
                                        "--train-limit", "8", "--test-limit", "5", "--out", dir.appendingPathComponent("run-limited").path])
        XCTAssertEqual(limited.status, 0, limited.stderr)
        XCTAssertTrue(limited.stdout.contains("training visual on 8 per epoch of 20 samples, testing on 5 of 20"), limited.stdout)
    }
}
