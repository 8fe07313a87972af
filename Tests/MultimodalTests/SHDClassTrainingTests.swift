import XCTest
@testable import Multimodal

/// SHD with its 20 classes (and SSC with its 35) as a training source (issue 41): the A-Network
/// on every class with the files' own split, through `train`, `evaluate` and `--network`.
final class SHDClassTrainingTests: XCTestCase {
    /// `count` samples per class of `classes`, each spiking on channels of its own class.
    static func writeCorpus(_ prefix: String, classes: Int, names: [String] = [], perClass: [String: Int],
                            in dir: URL) throws {
        var rng = SeededGenerator(seed: 41)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (split, count) in perClass {
            var samples: [(label: Int, events: CochleaEvents)] = []
            for label in 0..<classes {
                for _ in 0..<count {
                    var e = CochleaEvents(channelCount: 700)
                    for k in 0..<120 {
                        e.t.append(Int64(k * 5000))
                        e.channel.append(UInt16((700 / classes) * label + rng.nextInt(below: 700 / classes)))
                    }
                    samples.append((label, e))
                }
            }
            try SHDFile.write(samples, classNames: names, to: dir.appendingPathComponent("\(prefix)_\(split).h5"))
        }
    }

    func testSHDTrainsOnTwentyClassesEvaluatesAndTakesACochleaNetwork() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shd20-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.writeCorpus("shd", classes: 20, perClass: ["train": 2, "test": 1], in: dir)
        let cache = dir.appendingPathComponent("cache"), run = dir.appendingPathComponent("run")
        let t = try runSpikefuse(["train", "--mode", "audio", "--shd", dir.path, "--epochs", "2", "--timesteps", "8",
                                  "--cache", cache.path, "--config", "{\"audio_hidden\": 16}", "--out", run.path])
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertTrue(t.stdout.contains("training audio on 40 samples, testing on 20"), t.stdout)

        // config.json: the model has 20 classes and 700 inputs; the source is SHD's 20 classes.
        let recorded = try RunDirectory(run).readConfiguration()
        XCTAssertEqual(recorded.model.classes, 20)
        XCTAssertEqual(recorded.model.audioChannels, 700)
        XCTAssertEqual(recorded.model.mode, .audio)
        guard case .shd(let c) = try RunDirectory(run).readDataSource() else { return XCTFail("not an SHD source") }
        XCTAssertEqual(c.classes, 20); XCTAssertEqual(c.corpus, .shd); XCTAssertEqual(c.timesteps, 8)
        // metrics.jsonl: two epochs with an audio accuracy and no visual one.
        let lines = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONDecoder().decode(EpochMetrics.self, from: Data($0.utf8)) }
        XCTAssertEqual(lines.map(\.epoch), [1, 2])
        XCTAssertNotNil(lines.last?.testAudio); XCTAssertNil(lines.last?.testVisual)
        // The frame cache holds the SHD-20 stores, named apart from the joint dataset's "shd".
        let cached = try FileManager.default.contentsOfDirectory(atPath: cache.path)
        XCTAssertEqual(cached.filter { $0.hasPrefix("shd-classes-train-") }.count, 1, "\(cached)")
        XCTAssertEqual(cached.filter { $0.hasPrefix("shd-classes-test-") }.count, 1, "\(cached)")

        // evaluate rebuilds the 20 test samples from config.json; the confusion is 20 × 20.
        let e = try runSpikefuse(["evaluate", run.path])
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertTrue(e.stdout.contains("20 test samples"), e.stdout)
        let header = try XCTUnwrap(e.stdout.split(separator: "\n").first { $0.hasPrefix("      ") && $0.contains("    0") })
        XCTAssertEqual(header.split(separator: " ").map { String($0) }, (0..<20).map(String.init), String(header))
        let json = try runSpikefuse(["evaluate", run.path, "--json"])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], json.stderr)
        XCTAssertEqual(object["samples"] as? Int, 20)
        XCTAssertNotNil(object["audio"] as? Double)

        // Multimodal modes need visual data: a clear error.
        for mode in ["multimodal", "visual"] {
            let m = try runSpikefuse(["train", "--mode", mode, "--shd", dir.path, "--epochs", "1", "--timesteps", "8",
                                      "--cache", "none", "--out", dir.appendingPathComponent("run-\(mode)").path])
            XCTAssertNotEqual(m.status, 0)
            XCTAssertTrue(m.stderr.contains("no visual data") && m.stderr.contains("SHD (20 classes)"), m.stderr)
        }

        // A cochlea-only description of input [700] and 20 classes trains on it.
        func network(input: Int, classes: Int) throws -> URL {
            let url = dir.appendingPathComponent("net-\(input)-\(classes).json")
            try Data("""
            {"name": "shd-small", "timesteps": 8, "classes": \(classes), "branches": [{
              "name": "ear", "input": {"modality": "cochlea", "shape": [\(input)]},
              "neuron": {"tau": 0.5, "threshold": 0.5},
              "layers": [{"type": "recurrent", "name": "rec", "features": 16},
                         {"type": "linear", "name": "out", "features": \(classes)}, {"type": "lif"}]}]}
            """.utf8).write(to: url)
            return url
        }
        let netRun = dir.appendingPathComponent("run-net")
        let n = try runSpikefuse(["train", "--network", try network(input: 700, classes: 20).path, "--shd", dir.path,
                                  "--epochs", "1", "--timesteps", "8", "--cache", cache.path, "--out", netRun.path])
        XCTAssertEqual(n.status, 0, n.stderr)
        let ne = try runSpikefuse(["evaluate", netRun.path, "--json"])
        XCTAssertEqual(ne.status, 0, ne.stderr)
        XCTAssertTrue(ne.stdout.contains("\"samples\":20"), ne.stdout)
        // The joint set's 10 classes do not fit SHD's 20: the error names both.
        let ten = try runSpikefuse(["train", "--network", try network(input: 700, classes: 10).path, "--shd", dir.path,
                                    "--epochs", "1", "--timesteps", "8", "--cache", "none", "--out", dir.appendingPathComponent("run-10").path])
        XCTAssertNotEqual(ten.status, 0)
        XCTAssertTrue(ten.stderr.contains("class count is [10], the data gives [20]"), ten.stderr)
        // Joint-dataset framing options are refused with --shd.
        let crop = try runSpikefuse(["train", "--shd", dir.path, "--crop", "28", "--out", dir.appendingPathComponent("run-crop").path])
        XCTAssertNotEqual(crop.status, 0)
        XCTAssertTrue(crop.stderr.contains("--shd has no images"), crop.stderr)
        // --resume takes the recorded source; other framing is refused, naming the setting.
        let more = try runSpikefuse(["train", "--shd", dir.path, "--epochs", "3", "--timesteps", "8", "--cache", cache.path,
                                     "--out", run.path, "--resume"])
        XCTAssertEqual(more.status, 0, more.stderr)
        XCTAssertTrue(more.stdout.contains("epoch 3 "), more.stdout)
        let other = try runSpikefuse(["train", "--shd", dir.path, "--epochs", "4", "--timesteps", "16", "--out", run.path, "--resume"])
        XCTAssertNotEqual(other.status, 0)
        XCTAssertTrue(other.stderr.contains("data timesteps: 16 here, 8 recorded"), other.stderr)
        XCTAssertFalse(other.stderr.contains("cacheDirectory"), "the cache changes no frame: \(other.stderr)")
        let nowhere = try runSpikefuse(["train", "--shd", dir.appendingPathComponent("nowhere").path, "--out", dir.appendingPathComponent("run-x").path])
        XCTAssertNotEqual(nowhere.status, 0)
        XCTAssertTrue(nowhere.stderr.contains("--shd: \(dir.path)/nowhere: no such folder or file"), nowhere.stderr)
    }

    func testSSCThirtyFiveClassesFramedOnceAndCachedApart() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ssc35-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let names = (0..<35).map { "word\($0)" }
        try Self.writeCorpus("ssc", classes: 35, names: names, perClass: ["train": 1, "test": 1, "valid": 1], in: dir)
        var c = try SHDClassConfiguration(path: dir.path)
        XCTAssertEqual(c.corpus, .ssc); XCTAssertEqual(c.classes, 35)
        XCTAssertEqual(try SHDClassConfiguration(path: dir.appendingPathComponent("ssc_test.h5").path), c, "a file's path names its folder")
        c.timesteps = 6
        c.cacheDirectory = dir.appendingPathComponent("cache").path
        c.showProgress = false
        let source = DataSource.shd(c)
        XCTAssertEqual(source.classCount, 35); XCTAssertEqual(source.audioShape, [6, 700])
        XCTAssertThrowsError(try source.check(mode: .multimodal)) { XCTAssertTrue("\($0)".contains("no visual data"), "\($0)") }
        XCTAssertNoThrow(try source.check(mode: .audio))

        let built = try SHDClassDataset.load(c)
        XCTAssertEqual(built.train.count, 35); XCTAssertEqual(built.test.count, 35, "ssc_valid.h5 is not used")
        XCTAssertEqual(built.train.frames?.origin, .cacheBuilt)
        let hit = try SHDClassDataset.load(c)
        XCTAssertEqual(hit.test.frames?.origin, .cacheHit)
        // The cached frames are the on-demand framing of the same file, labels 0…34 kept.
        let onDemand = SHDClassDataset(file: try SHDFile.open(c.file(.test)), framing: c.framing)
        for i in [0, 17, 34] {
            XCTAssertEqual(try hit.test.sample(i).audio.scalars, try onDemand.sample(i).audio.scalars)
            XCTAssertEqual(try hit.test.sample(i).label, i)
        }
        // Other framing: another cache file, not the first one's frames.
        var other = c; other.timesteps = 5
        let rebuilt = try SHDClassDataset.load(other)
        XCTAssertEqual(rebuilt.train.frames?.origin, .cacheBuilt)
        XCTAssertEqual(try rebuilt.train.sample(0).audio.shape, [5, 700])
        // A folder holding both corpora is ambiguous: the error says what to give.
        try Self.writeCorpus("shd", classes: 20, perClass: ["train": 1], in: dir)
        XCTAssertThrowsError(try SHDClassConfiguration(path: dir.path)) { XCTAssertTrue("\($0)".contains("both SHD and SSC"), "\($0)") }
        XCTAssertThrowsError(try SHDClassConfiguration(path: dir.appendingPathComponent("shd_train.h5").path)) {
            XCTAssertTrue("\($0)".contains("shd_test.h5: missing"), "\($0)")
        }
    }

    func testSourcesRecordedBeforeSHDStillDecode() throws {
        let old = #"{"joint":{"_0":{"mnistDVSRoot":"/data/mnist-dvs","ntidigitsFile":"/data/n-tidigits.hdf5"}}}"#
        guard case .joint(let j) = try DataSource.fromJSON(old, source: "config.json") else { return XCTFail("not joint") }
        XCTAssertEqual(j.mnistDVSRoot, "/data/mnist-dvs"); XCTAssertEqual(j.timesteps, 64)
        var c = SHDClassConfiguration(folder: "/data/shd", corpus: .shd, classes: 20)
        c.timesteps = 16
        let back = try DataSource.fromJSON(DataSource.shd(c).jsonString(), source: "config.json")
        XCTAssertEqual(back, .shd(c))
        let minimal = #"{"shd":{"_0":{"folder":"/data/shd","corpus":"shd","classes":20}}}"#
        guard case .shd(let m) = try DataSource.fromJSON(minimal, source: "config.json") else { return XCTFail("not shd") }
        XCTAssertEqual(m.timesteps, 64); XCTAssertEqual(m.badFiles, .skip)
    }
}
