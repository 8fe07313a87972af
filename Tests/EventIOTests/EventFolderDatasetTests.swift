import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

/// Event folders as training data (issue 41): sensors of any size fitted to a network's
/// input, clean frames cached, augmented samples framed on the fly and never cached.
final class EventFolderDatasetTests: XCTestCase {
    /// Events at the given pixels, 10 µs apart, ON.
    func events(_ sensor: SensorSize, _ pixels: [(Int, Int)]) -> DVSEvents {
        var e = DVSEvents(sensor: sensor)
        for (i, p) in pixels.enumerated() { e.append(t: Int64(10 * i), x: UInt16(p.0), y: UInt16(p.1), polarity: 1) }
        return e
    }

    /// Pixels worked out by hand from the three steps of `SensorFit`'s doc comment.
    func testSensorsOfAnySizeFitTheInputByCropAndDownsampling() {
        // 1280 × 720 → 32 × 32: f = min(40, 22) = 22, 59 × 33, centre crop left 13, top 0.
        let evk4 = SensorFit(sensor: SensorSize(width: 1280, height: 720), width: 32, height: 32)
        XCTAssertEqual(evk4.factor, 22)
        XCTAssertEqual(evk4.downsampled, SensorSize(width: 59, height: 33))
        let e = evk4(events(SensorSize(width: 1280, height: 720), [(640, 360), (0, 0), (1279, 719), (286, 10), (989, 703)]))
        XCTAssertEqual(e.sensor, SensorSize(width: 32, height: 32))
        // (640, 360) → (29, 16) → (16, 16); (0, 0) → x −13 dropped; (1279, 719) → (58, 32) → x 45 dropped;
        // (286, 10) → (13, 0) → (0, 0); (989, 703) → (44, 31) → (31, 31).
        XCTAssertEqual(e.x, [16, 0, 31]); XCTAssertEqual(e.y, [16, 0, 31]); XCTAssertEqual(e.t, [0, 30, 40])

        // 346 × 260 → 64 × 64: f = min(5, 4) = 4, 87 × 65, left 11, top 0: (173, 130) → (43, 32) → (32, 32).
        let davis = SensorFit(sensor: SensorSize(width: 346, height: 260), width: 64, height: 64)
        XCTAssertEqual(davis.factor, 4)
        XCTAssertEqual(davis.downsampled, SensorSize(width: 87, height: 65))
        let d = davis(events(SensorSize(width: 346, height: 260), [(173, 130), (44, 0), (43, 0)]))
        XCTAssertEqual(d.x, [32, 0]); XCTAssertEqual(d.y, [32, 0])   // (43, 0) → 10 − 11 < 0: dropped
        let frames = DVSFraming(timesteps: 3)(d)
        XCTAssertEqual(frames.shape, [3, 2, 64, 64])

        // A centred 720 × 720 crop first: left 280; f = 22 → 33 × 33 → left 0: (640, 360) → (360, 360) → (16, 16).
        let square = SensorFit(sensor: SensorSize(width: 1280, height: 720), width: 32, height: 32,
                               crop: SensorSize(width: 720, height: 720))
        XCTAssertEqual(square.downsampled, SensorSize(width: 33, height: 33))
        // (279, …) is left of the crop; (983, 703) → (703, 703) → (31, 31); (1000, 360) → (720, …) is right of it.
        let s = square(events(SensorSize(width: 1280, height: 720), [(640, 360), (279, 360), (983, 703), (1000, 360)]))
        XCTAssertEqual(s.x, [16, 31]); XCTAssertEqual(s.y, [16, 31])
        // N-Caltech101's 240 × 180 → 32 × 32: f = min(7, 5) = 5, 48 × 36, left 8, top 2: (120, 90) → (24, 18) → (16, 16).
        let caltech = SensorFit(sensor: NCaltech101.sensor, width: 32, height: 32)
        XCTAssertEqual(caltech.downsampled, SensorSize(width: 48, height: 36))
        let n = caltech(events(NCaltech101.sensor, [(120, 90), (39, 9), (40, 10)]))
        XCTAssertEqual(n.x, [16, 0]); XCTAssertEqual(n.y, [16, 0])   // (39, 9) → (7, 1): left of and above the crop
        // The DVS128 to 32 × 32 is plain downsampling by 4.
        XCTAssertEqual(SensorFit(sensor: .dvs128, width: 32, height: 32).factor, 4)
        XCTAssertEqual(SensorFit(sensor: .dvs128, width: 32, height: 32).downsampled, SensorSize(width: 32, height: 32))
        // A sensor smaller than the input cannot fill it.
        XCTAssertFalse(SensorFit(sensor: SensorSize(width: 34, height: 34), width: 64, height: 64).fits)
        XCTAssertFalse(SensorFit(sensor: .dvs128, width: 32, height: 32, factor: 5).fits)
    }

    /// An N-MNIST-shaped folder: `Train/{d}`, `Test/{d}` with `perClass` recordings each.
    func makeNMNIST(classes: Int = 2, perClass: (train: Int, test: Int) = (3, 1)) throws -> URL {
        let root = try temporaryFolder(self)
        var g = SeededGenerator(seed: 34)
        for (split, n) in [("Train", perClass.train), ("Test", perClass.test)] {
            for d in 0..<classes {
                let dir = root.appendingPathComponent("\(split)/\(d)")
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                for k in 0..<n {
                    try NMNIST.write(randomDVSEvents(&g, count: 300, sensor: NMNIST.sensor, maxGap: 50),
                                     to: dir.appendingPathComponent("\(k).bin"))
                }
            }
        }
        return root
    }

    func testNMNISTFolderIsDetectedAndAMismatchNamesBothShapes() throws {
        let root = try makeNMNIST()
        XCTAssertEqual(EventFolderConfiguration.Kind.detect(root), .nMNIST)
        var c = try EventFolderConfiguration(path: root.path)
        XCTAssertEqual(c.classes, 10)
        try c.fit(input: [1, 16, 16], timesteps: 5, keepTimesteps: false)
        XCTAssertEqual(c.visualShape, [5, 1, 16, 16])
        XCTAssertEqual(c.sensorFit.factor, 2)
        // 34 × 34 cannot fill 64 × 64: the error names the sensor and both shapes.
        XCTAssertThrowsError(try c.fit(input: [2, 64, 64], timesteps: 5, keepTimesteps: false)) {
            XCTAssertTrue("\($0)".contains("34×34 sensor downsampled by 1 gives [T, P, H, W] = [5, 2, 34, 34] after framing, "
                                           + "the network wants [5, 2, 64, 64]"), "\($0)")
        }
        // A folder with N-TIDIGITS beside N-MNIST is the joint set's, not an event folder.
        try Data().write(to: root.appendingPathComponent("n-tidigits.hdf5"))
        XCTAssertNil(EventFolderConfiguration.Kind.detect(root))
    }

    /// Clean frames come from the cache; augmented samples are framed from the events each
    /// time, depend on the seed only, and leave the cache file as it was.
    func testCleanFramesAreCachedAndAugmentedSamplesNeverTouchTheCache() throws {
        let root = try makeNMNIST()
        let cache = try temporaryFolder(self)
        var c = try EventFolderConfiguration(path: root.path)
        try c.fit(input: [2, 16, 16], timesteps: 4, keepTimesteps: false)
        c.cacheDirectory = cache.path; c.showProgress = false
        let built = try EventFolderDataset.load(c)
        XCTAssertEqual(built.train.count, 6); XCTAssertEqual(built.test.count, 2)
        XCTAssertEqual(built.train.frames?.origin, .cacheBuilt)
        XCTAssertEqual((0..<6).map(built.train.label), [0, 0, 0, 1, 1, 1])
        let files = try FileManager.default.contentsOfDirectory(atPath: cache.path).sorted()
        XCTAssertEqual(files.filter { $0.hasPrefix("n-mnist-train-") }.count, 1, "\(files)")
        let trainFile = try XCTUnwrap(built.train.frames?.file)
        let before = try Data(contentsOf: trainFile)

        let onDemand = try EventFolderDataset(c, split: .train)
        let augment = try AugmentationSettings(parsing: "drop=0.3,jitter=1,noise=20").pipeline
        for i in 0..<6 {
            let clean = try built.train.sample(i).visual
            XCTAssertEqual(clean.shape, [4, 2, 16, 16])
            XCTAssertTrue(try clean.scalars == onDemand.sample(i).visual.scalars, "cached frames are the on-demand framing")
            let a = try built.train.sample(i, augmentedBy: augment, seed: 7).visual
            XCTAssertTrue(try a.scalars == onDemand.sample(i, augmentedBy: augment, seed: 7).visual.scalars, "same seed, same sample")
            XCTAssertTrue(a.scalars != clean.scalars, "sample \(i) augmented is the clean frame")
            XCTAssertTrue(try a.scalars != built.train.sample(i, augmentedBy: augment, seed: 8).visual.scalars, "seed ignored")
            // The clean sample after augmenting is still the clean one.
            XCTAssertTrue(try built.train.sample(i).visual.scalars == clean.scalars)
        }
        XCTAssertEqual(try Data(contentsOf: trainFile), before, "augmenting wrote to the clean cache")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache.path).sorted(), files, "augmenting added cache files")
        let hit = try EventFolderDataset.load(c)
        XCTAssertEqual(hit.train.frames?.origin, .cacheHit)
        XCTAssertTrue(try hit.train.sample(2).visual.scalars == onDemand.sample(2).visual.scalars)
        // Another input size is another cache file.
        var other = c
        try other.fit(input: [2, 8, 8], timesteps: 4, keepTimesteps: false)
        XCTAssertEqual(try EventFolderDataset.load(other).train.frames?.origin, .cacheBuilt)
    }

    /// N-Caltech101: one class per folder, the first ⌈0.9·n⌉ files of each class for training;
    /// its 240 × 180 events fitted to 32 × 32 (f = 5).
    func testNCaltech101FolderSplitsEachClassNineToOne() throws {
        let root = try temporaryFolder(self)
        var g = SeededGenerator(seed: 101)
        for name in ["accordion", "airplanes"] {
            let dir = root.appendingPathComponent("Caltech101/\(name)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for k in 1...10 {
                try NCaltech101.write(randomDVSEvents(&g, count: 50, sensor: NCaltech101.sensor, maxGap: 20),
                                      to: dir.appendingPathComponent(String(format: "image_%04d.bin", k)))
            }
        }
        XCTAssertEqual(EventFolderConfiguration.Kind.detect(root), .nCaltech101)
        var c = try EventFolderConfiguration(path: root.path)
        XCTAssertEqual(c.classes, 2)
        try c.fit(input: [2, 32, 32], timesteps: 3, keepTimesteps: false)
        XCTAssertEqual(c.sensorFit.factor, 5)
        let train = try c.samples(.train), test = try c.samples(.test)
        XCTAssertEqual(train.map(\.label), Array(repeating: 0, count: 9) + Array(repeating: 1, count: 9))
        XCTAssertEqual(test.map(\.url.lastPathComponent), ["image_0010.bin", "image_0010.bin"])
        XCTAssertEqual(test.map(\.label), [0, 1])
        c.showProgress = false
        let (trainSet, testSet, _) = try EventFolderDataset.load(c)
        XCTAssertEqual(trainSet.count, 18); XCTAssertEqual(testSet.count, 2)
        XCTAssertEqual(try testSet.sample(1).visual.shape, [3, 2, 32, 32])
    }

    func testAugmentSettingsParseInAFixedOrderAndRefuseNonsense() throws {
        let a = try AugmentationSettings(parsing: "noise=5, flip ,drop=0.1,tjitter=100,skew=0.2,jitter=1.5")
        XCTAssertEqual(a.description, "drop=0.1,flip=0.5,jitter=1.5,tjitter=100,skew=0.2,noise=5")
        XCTAssertEqual(try AugmentationSettings(parsing: a.description), a)
        XCTAssertEqual(a.stages.count, 6)
        XCTAssertTrue(a.stages[0] is DropEvents && a.stages[5] is UniformNoise)
        for (text, says) in [("drop=2", "drop needs a number in 0.0…1.0"), ("blur=1", "unknown setting 'blur'"),
                             ("noise=1.5", "noise needs a whole number"), ("", "no augmentation given"), ("jitter", "jitter needs a number")] {
            XCTAssertThrowsError(try AugmentationSettings(parsing: text)) { XCTAssertTrue("\($0)".contains(says), "\(text): \($0)") }
        }
    }
}
