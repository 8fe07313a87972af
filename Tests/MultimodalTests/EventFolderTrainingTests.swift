import XCTest
@testable import Multimodal

/// Event-camera folders (DVS128 Gesture, N-MNIST, …) train a described dvs-only network, with
/// seeded on-the-fly augmentation (issue 41 items 2 and 3, issue 39 item 5).
final class EventFolderTrainingTests: XCTestCase {
    private func tempDir() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sf-events-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// `count` events on `sensor`, class `label` drawn to its own band of rows so that
    /// classes can be told apart; times 0 ..< about 50 ms.
    static func events(_ rng: inout SeededGenerator, label: Int, classes: Int, sensor: SensorSize,
                       count: Int = 300, start: Int64 = 0) -> DVSEvents {
        var e = DVSEvents(sensor: sensor)
        let band = max(1, sensor.height / classes)
        for k in 0..<count {
            e.append(t: start + Int64(k * 150), x: UInt16(rng.nextInt(below: sensor.width)),
                     y: UInt16(min(sensor.height - 1, band * label + rng.nextInt(below: band))), polarity: UInt8(k % 2))
        }
        return e
    }

    /// An N-MNIST-shaped folder with `perClass` recordings of each of `classes` digits per split.
    static func writeNMNIST(classes: Int, perClass: (train: Int, test: Int), in root: URL) throws {
        var rng = SeededGenerator(seed: 34)
        for (split, n) in [("Train", perClass.train), ("Test", perClass.test)] {
            for d in 0..<classes {
                let dir = root.appendingPathComponent("\(split)/\(d)")
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                for k in 0..<n {
                    try NMNIST.write(events(&rng, label: d, classes: classes, sensor: NMNIST.sensor), to: dir.appendingPathComponent("\(k).bin"))
                }
            }
        }
    }

    /// A DVS128 Gesture-shaped folder: 3 trials (2 train, 1 test), AEDAT 3.1, each with
    /// windows of classes 1, 2 and 11.
    static func writeGesture(in root: URL) throws {
        var rng = SeededGenerator(seed: 128)
        for trial in ["user01_led", "user02_led", "user03_led"] {
            var e = DVSEvents(sensor: .dvs128)
            var csv = "class,startTime_usec,endTime_usec\n"
            for (w, classID) in [1, 2, 11].enumerated() {
                let start = Int64(w * 100_000)
                let part = events(&rng, label: classID - 1, classes: 11, sensor: .dvs128, count: 400, start: start)
                for i in 0..<part.count { e.append(t: part.t[i], x: part.x[i], y: part.y[i], polarity: part.polarity[i]) }
                csv += "\(classID),\(start),\(start + 80_000)\n"
            }
            try AEDAT31.write(e, to: root.appendingPathComponent(trial + ".aedat"))
            try Data(csv.utf8).write(to: root.appendingPathComponent(trial + "_labels.csv"))
        }
        try Data("user01_led.aedat\nuser02_led.aedat\n".utf8).write(to: root.appendingPathComponent("trials_to_train.txt"))
        try Data("user03_led.aedat\n".utf8).write(to: root.appendingPathComponent("trials_to_test.txt"))
    }

    /// A small dvs-only network: conv, LIF, flatten, linear readout.
    static func network(side: Int, polarities: Int = 2, timesteps: Int, classes: Int) -> NetworkDescription {
        let eye = BranchDescription("eye", .dvs, shape: [polarities, side, side], neuron: NeuronDescription(tau: 0.5), layers: [
            .conv2d("c1", channels: 4, kernel: 3, stride: 2, padding: 1), .lif(), .flatten,
            .linear("out", features: classes), .lif(),
        ])
        return NetworkDescription(name: "eye-\(side)", timesteps: timesteps, classes: classes, branches: [eye])
    }

    /// N-MNIST (34 × 34) fitted to 16 × 16, T = 4, framed once and cached.
    private func nmnistTask(cache: URL) throws -> (ModelConfiguration, TrainingConfiguration, EventFolderDataset, EventFolderDataset) {
        let root = try tempDir()
        try Self.writeNMNIST(classes: 10, perClass: (2, 1), in: root)
        let net = Self.network(side: 16, timesteps: 4, classes: 10)
        var c = try EventFolderConfiguration(path: root.path)
        try c.fit(input: net.branches[0].input.shape, timesteps: net.timesteps, keepTimesteps: false)
        c.cacheDirectory = cache.path; c.showProgress = false
        let (train, test, _) = try EventFolderDataset.load(c)
        var training = TrainingConfiguration()
        training.epochs = 3; training.batchSize = 5; training.learningRate = 5e-3; training.seed = 5
        training.augmentation = try AugmentationSettings(parsing: "drop=0.2,flip,jitter=1,tjitter=200,skew=0.1,noise=10")
        return (try ModelConfiguration(network: net), training, train, test)
    }

    private func weights(_ t: Trainer) -> [[Float]] { t.network.parameters.map(\.value.scalars) }

    func testAugmentedTrainingIsSeededResumableAndLeavesTheCleanCache() throws {
        let dir = try tempDir(), cache = dir.appendingPathComponent("cache")
        let (model, training, train, test) = try nmnistTask(cache: cache)
        let cacheFiles = try FileManager.default.contentsOfDirectory(atPath: cache.path).sorted()
        let trainCache = try XCTUnwrap(train.frames?.file)
        let cleanBytes = try Data(contentsOf: trainCache)

        func trainer(_ name: String, _ t: TrainingConfiguration = training) throws -> Trainer {
            try Trainer(model: model, training: t, trainSet: train, testSet: test, runDirectory: dir.appendingPathComponent(name))
        }
        // Same seed: bit-identical weights and metrics.
        let a = try trainer("a"), b = try trainer("b")
        let ma = try a.run(), mb = try b.run()
        XCTAssertEqual(timeless(ma), timeless(mb))
        XCTAssertTrue(weights(a) == weights(b), "same seed, other weights")
        XCTAssertTrue(try weights(a) != MultimodalNetwork(model, seed: training.seed).parameters.map(\.value.scalars),
                      "training changed no weight")
        // Another seed augments differently (and initialises differently): other weights. The same
        // seed without augmentation: other weights too, so the augmentation reached the batches.
        var reseeded = training; reseeded.seed = 6
        let c = try trainer("c", reseeded); try c.run()
        XCTAssertTrue(weights(a) != weights(c))
        XCTAssertTrue(try a.epochData(1).sample(0).visual.scalars != c.epochData(1).sample(0).visual.scalars,
                      "the run's seed does not reach the augmentation")
        var clean = training; clean.augmentation = nil
        let d = try trainer("d", clean); try d.run()
        XCTAssertTrue(weights(a) != weights(d), "augmentation changed nothing")
        // The epochs see different augmentations: epoch 1's and epoch 2's view of a sample differ.
        let e1 = a.epochData(1), e2 = a.epochData(2)
        XCTAssertTrue(try e1.sample(0).visual.scalars != e2.sample(0).visual.scalars)

        // Killed in epoch 2 after one batch, resumed: the uninterrupted run's metrics and weights.
        let killed = try trainer("killed")
        var batches = 0
        let perEpoch = (train.count + training.batchSize - 1) / training.batchSize
        killed.shouldStop = { batches += 1; return batches == perEpoch + 1 }
        XCTAssertThrowsError(try killed.run()) { XCTAssertTrue($0 is TrainingInterrupted, "\($0)") }
        let resumed = try trainer("killed")
        XCTAssertEqual(timeless(try resumed.run(resume: true)), timeless(ma))
        XCTAssertTrue(weights(resumed) == weights(a), "resume differs from the uninterrupted run")

        // The clean cache is as it was: same files, same bytes, and clean samples still clean.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache.path).sorted(), cacheFiles)
        XCTAssertEqual(try Data(contentsOf: trainCache), cleanBytes)
        XCTAssertTrue(try train.sample(1).visual.scalars == EventFolderDataset(train.configuration, split: .train).sample(1).visual.scalars)
    }

    /// Equal settings never differ: an object (the augmentation) is compared as sorted JSON,
    /// not as a dictionary's description, whose key order varies between equal dictionaries.
    func testEqualAugmentationsShowNoDifference() throws {
        var t = TrainingConfiguration()
        t.augmentation = try AugmentationSettings(parsing: "drop=0.1,flip,jitter=1,tjitter=5,skew=0.1,noise=3")
        for _ in 0..<50 { XCTAssertEqual(jsonDifferences(of: t, from: t), []) }
        var other = t
        other.augmentation?.drop = 0.2
        XCTAssertEqual(jsonDifferences(of: other, from: t).count, 1)
        XCTAssertTrue(jsonDifferences(of: other, from: t)[0].hasPrefix("augmentation: {\"drop\":0.2,\"flip\":0.5"), "\(jsonDifferences(of: other, from: t))")
    }

    func testAugmentationNeedsEventSamples() throws {
        let (train, test, training) = syntheticTask(trainCount: 8, testCount: 4, epochs: 1, batchSize: 4, seed: 1, learningRate: 1e-3)
        var t = training
        t.augmentation = try AugmentationSettings(parsing: "drop=0.1")
        XCTAssertThrowsError(try Trainer(model: train.modelConfiguration(mode: .visual), training: t, trainSet: train, testSet: test,
                                         runDirectory: try tempDir())) {
            XCTAssertTrue("\($0)".contains("augmentation works on event datasets"), "\($0)")
        }
    }

    /// `train --network NET --data GESTURE --augment …`: config.json records the source and the
    /// augmentation; evaluate rebuilds the test set; resume refuses other augmentations.
    func testGestureFolderTrainsADescribedNetworkFromTheCommandLine() throws {
        let dir = try tempDir(), gesture = dir.appendingPathComponent("DvsGesture")
        try FileManager.default.createDirectory(at: gesture, withIntermediateDirectories: true)
        try Self.writeGesture(in: gesture)
        let netURL = dir.appendingPathComponent("eye.json"), run = dir.appendingPathComponent("run")
        func write(_ n: NetworkDescription, to url: URL) throws {
            let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]
            try e.encode(n).write(to: url)
        }
        try write(Self.network(side: 16, polarities: 1, timesteps: 4, classes: 11), to: netURL)
        let cache = dir.appendingPathComponent("cache")
        let base = ["train", "--network", netURL.path, "--data", gesture.path, "--cache", cache.path, "--batch-size", "3"]
        let t = try runSpikefuse(base + ["--epochs", "1", "--augment", "drop=0.1,flip", "--out", run.path])
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertTrue(t.stdout.contains("training visual on 6 samples, testing on 3"), t.stdout)
        let recorded = try RunDirectory(run).readConfiguration()
        XCTAssertEqual(recorded.training.augmentation?.description, "drop=0.1,flip=0.5")
        guard case .events(let c) = try RunDirectory(run).readDataSource() else { return XCTFail("not an event-folder source") }
        XCTAssertEqual(c.kind, .dvsGesture); XCTAssertEqual(c.visualShape, [4, 1, 16, 16]); XCTAssertEqual(c.classes, 11)
        XCTAssertEqual(c.sensorFit.factor, 8)

        let e = try runSpikefuse(["evaluate", run.path, "--json"])
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertTrue(e.stdout.contains("\"samples\":3"), e.stdout)
        // Given the folder, evaluate frames it for the run's network (16 × 16, P = 1, T = 4).
        let given = try runSpikefuse(["evaluate", run.path, "--data", gesture.path, "--cache", "none", "--json"])
        XCTAssertEqual(given.status, 0, given.stderr)
        XCTAssertTrue(given.stdout.contains("\"samples\":3"), given.stdout)

        // Resume: the recorded augmentation is kept; another one is refused, naming it.
        let more = try runSpikefuse(base + ["--epochs", "2", "--out", run.path, "--resume"])
        XCTAssertEqual(more.status, 0, more.stderr)
        XCTAssertTrue(more.stdout.contains("epoch 2 "), more.stdout)
        XCTAssertEqual(try RunDirectory(run).readConfiguration().training.augmentation?.description, "drop=0.1,flip=0.5")
        let other = try runSpikefuse(base + ["--epochs", "3", "--augment", "drop=0.2", "--out", run.path, "--resume"])
        XCTAssertNotEqual(other.status, 0)
        XCTAssertTrue(other.stderr.contains("training augmentation"), other.stderr)
        // Resuming with the folder alone (no --network) takes the recorded network and framing.
        let alone = try runSpikefuse(["train", "--data", gesture.path, "--epochs", "3", "--out", run.path, "--resume"])
        XCTAssertEqual(alone.status, 0, alone.stderr)
        XCTAssertTrue(alone.stdout.contains("epoch 3 "), alone.stdout)

        // --crop 64: the centre 64 × 64 of the sensor, downsampled by 4 to 16 × 16.
        let cropped = dir.appendingPathComponent("cropped")
        let crop = try runSpikefuse(base + ["--epochs", "1", "--crop", "64", "--out", cropped.path])
        XCTAssertEqual(crop.status, 0, crop.stderr)
        guard case .events(let cc) = try RunDirectory(cropped).readDataSource() else { return XCTFail("not an event-folder source") }
        XCTAssertEqual(cc.crop, 64); XCTAssertEqual(cc.sensorFit.factor, 4)
        // --timesteps other than the network's: both shapes named.
        let steps = try runSpikefuse(base + ["--timesteps", "8", "--out", dir.appendingPathComponent("steps").path])
        XCTAssertNotEqual(steps.status, 0)
        XCTAssertTrue(steps.stderr.contains("dvs input [T, P, H, W] is [4, 1, 16, 16], the data gives [8, 1, 16, 16]"), steps.stderr)

        // A network the data cannot fill, a cochlea network, an audio mode: errors naming why.
        try write(Self.network(side: 256, timesteps: 4, classes: 11), to: netURL)
        let big = try runSpikefuse(base + ["--out", dir.appendingPathComponent("big").path])
        XCTAssertNotEqual(big.status, 0)
        XCTAssertTrue(big.stderr.contains("gives [T, P, H, W] = [4, 2, 128, 128] after framing, the network wants [4, 2, 256, 256]"), big.stderr)
        try write(Self.network(side: 16, timesteps: 4, classes: 10), to: netURL)
        let ten = try runSpikefuse(base + ["--out", dir.appendingPathComponent("ten").path])
        XCTAssertNotEqual(ten.status, 0)
        XCTAssertTrue(ten.stderr.contains("class count is [10], the data gives [11]"), ten.stderr)
        let audio = try runSpikefuse(["train", "--mode", "audio", "--data", gesture.path, "--out", dir.appendingPathComponent("audio").path])
        XCTAssertNotEqual(audio.status, 0)
        XCTAssertTrue(audio.stderr.contains("no audio data"), audio.stderr)
        // Augmenting the joint set (framed samples only) is refused.
        let synthetic = try runSpikefuse(["train", "--synthetic", "--augment", "drop=0.1", "--epochs", "1",
                                          "--out", dir.appendingPathComponent("syn").path])
        XCTAssertNotEqual(synthetic.status, 0)
        XCTAssertTrue(synthetic.stderr.contains("augmentation works on event datasets"), synthetic.stderr)
    }
}
