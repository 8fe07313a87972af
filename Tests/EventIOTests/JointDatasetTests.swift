import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

/// The joint dataset on a generated folder with the real MNIST-DVS layout and a generated
/// N-TIDIGITS file.
final class JointDatasetTests: XCTestCase {
    /// Visual: 3 recordings per digit (indices 1, 2, 3) at scale 4, random events in a
    /// 30×30 patch. Audio: class c has 2 + (c mod 3) single-digit samples, split over the
    /// file's train (first half, rounded up) and test keys, plus an "oh" and a multi-digit key.
    private func makeDataset(_ test: XCTestCase, extraKeys: [String] = []) throws -> (URL, [String: Int]) {
        let root = try temporaryFolder(test)
        var g = SeededGenerator(seed: 11)
        for d in 0...9 {
            let folder = root.appendingPathComponent("grabbed_data\(d)/scale4")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for i in 1...3 {
                var e = DVSEvents(sensor: .dvs128)
                var t: Int64 = 0
                for _ in 0..<200 {
                    t += Int64(g.next() % 20_000)
                    e.append(t: t, x: UInt16(40 + g.next() % 30), y: UInt16(50 + g.next() % 30), polarity: UInt8(g.next() % 2))
                }
                try AEDAT.write(e, to: folder.appendingPathComponent(MNISTDVSFileName(digit: d, scale: 4, index: i).fileName))
            }
        }
        var samples: [(key: String, split: Split, events: CochleaEvents)] = []
        var audioLabel: [String: Int] = [:]
        let digitChar: [Character] = ["z", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
        for c in 0..<10 {
            let n = 2 + c % 3
            for k in 0..<n {
                let key = "\(k % 2 == 0 ? "man" : "woman")-s\(k)-a-\(digitChar[c])"
                var e = CochleaEvents()
                var t: Int64 = 0
                for _ in 0..<100 { t += Int64(g.next() % 30_000); e.append(t: t, channel: UInt16(g.next() % 64)) }
                samples.append((key, k < (n + 1) / 2 ? .train : .test, e))
                audioLabel[key] = c
            }
        }
        samples.append(("man-oh-a-o", .train, CochleaEvents(t: [0, 5], channel: [1, 2])))
        samples.append(("man-mm-b-12z", .test, CochleaEvents(t: [0, 5], channel: [1, 2])))
        for key in extraKeys { samples.append((key, .train, CochleaEvents(t: [0], channel: [1]))) }
        try NTidigitsFile.write(samples, to: root.appendingPathComponent("n-tidigits.hdf5"))
        return (root, audioLabel)
    }

    private func configuration(_ root: URL, cache: URL? = nil) -> JointDatasetConfiguration {
        var c = JointDatasetConfiguration(dataFolder: root, cacheDirectory: cache)
        c.timesteps = 8
        c.showProgress = false
        return c
    }

    func testSplitPairingAndLabels() throws {
        let (root, audioLabel) = try makeDataset(self)
        let (train, test) = try JointDataset.load(configuration(root))
        // Visual: 3 per class → ⌈3/2⌉ = 2 train, 1 test → 20 and 10 pairs.
        XCTAssertEqual(train.count, 20)
        XCTAssertEqual(test.count, 10)
        XCTAssertEqual(train.catalog.audio.count, (0..<10).map { 2 + $0 % 3 }.reduce(0, +), "'o' and multi-digit left out")
        XCTAssertEqual(train.visualShape, [8, 2, 32, 32])
        XCTAssertEqual(train.audioShape, [8, 64])
        for ds in [train, test] {
            for i in 0..<ds.count {
                let p = ds.pairs[i]
                let visual = ds.catalog.visual[p.visual]
                let audio = ds.catalog.audio[p.audio]
                XCTAssertEqual(visual.digit, p.label)
                XCTAssertEqual(audioLabel[audio.key], p.label)
                XCTAssertEqual(ds.label(i), p.label)
                let s = try ds.sample(i)
                XCTAssertEqual(s.label, p.label)
                XCTAssertEqual(s.visual.shape, [8, 2, 32, 32])
                XCTAssertEqual(s.audio.shape, [8, 64])
            }
        }
        // First-50 % rule: recordings 1, 2 train; 3 test, for every digit.
        XCTAssertEqual(Set(train.pairs.map { train.catalog.visual[$0.visual].name.index }), [1, 2])
        XCTAssertEqual(Set(test.pairs.map { test.catalog.visual[$0.visual].name.index }), [3])
        // Class 2 has 2 + 2 = 4 audio samples, canonical order = file train keys then test keys:
        // s0, s1 (train), s2, s3 (test). First half → train audio s0, s1; test s2, s3.
        let class2Train = train.pairs.filter { $0.label == 2 }.map { train.catalog.audio[$0.audio].key }
        XCTAssertEqual(class2Train, ["man-s0-a-2", "woman-s1-a-2"])
        let class2Test = test.pairs.filter { $0.label == 2 }.map { test.catalog.audio[$0.audio].key }
        XCTAssertEqual(class2Test, ["man-s2-a-2"])
        // Class 0 has 2 audio samples → 1 in train, cycled over both training visual samples.
        let class0Train = train.pairs.filter { $0.label == 0 }.map { train.catalog.audio[$0.audio].key }
        XCTAssertEqual(class0Train, ["man-s0-a-z", "man-s0-a-z"])
        // Every training audio sample is used (each class has ≥ as many visual as audio in train).
        let trainAudio = Set(train.catalog.audio.indices.filter { i in
            let c = train.catalog.audio[i].label
            let members = train.catalog.audio.indices.filter { train.catalog.audio[$0].label == c }
            return members.firstIndex(of: i)! < (members.count + 1) / 2
        })
        // Class c has ⌈(2 + c mod 3)/2⌉ ≤ 2 training audio samples and 2 training visual samples.
        XCTAssertEqual(trainAudio, Set(train.pairs.map(\.audio)))
        // The frames equal framing the source file directly.
        let p = train.pairs[3]
        let events = try AEDAT.read(train.catalog.visual[p.visual].url)
        XCTAssertEqual(try train.sample(3).visual, train.configuration.visualFraming(train.configuration.visualTransform(events)))
        let a = train.catalog.audio[p.audio]
        XCTAssertEqual(try train.sample(3).audio,
                       train.configuration.audioFraming(try train.catalog.audioFile!.events(key: a.key, split: a.fileSplit)))
    }

    func testHDF5SplitMode() throws {
        let (root, _) = try makeDataset(self)
        var c = configuration(root)
        c.splitMode = .hdf5
        let (train, test) = try JointDataset.load(c)
        XCTAssertTrue(train.pairs.allSatisfy { train.catalog.audio[$0.audio].fileSplit == .train })
        XCTAssertTrue(test.pairs.allSatisfy { test.catalog.audio[$0.audio].fileSplit == .test })
        XCTAssertEqual(train.count + test.count, 30)
    }

    func testCacheHitMissAndRebuild() throws {
        let (root, _) = try makeDataset(self)
        let cache = root.appendingPathComponent("cache")
        var c = configuration(root, cache: cache)
        let first = try JointDataset.load(c).train
        XCTAssertEqual(first.visualFrames.origin, .cacheBuilt)
        XCTAssertEqual(first.audioFrames.origin, .cacheBuilt)
        XCTAssertEqual(first.visualFrames.encoding, .bits)
        let second = try JointDataset.load(c).train
        XCTAssertEqual(second.visualFrames.origin, .cacheHit)
        XCTAssertEqual(second.audioFrames.origin, .cacheHit)
        for i in 0..<first.count {
            XCTAssertEqual(try first.sample(i).visual, try second.sample(i).visual)
            XCTAssertEqual(try first.sample(i).audio, try second.sample(i).audio)
        }
        // A settings change rebuilds (new key).
        c.timesteps = 4
        let changed = try JointDataset.load(c).train
        XCTAssertEqual(changed.visualFrames.origin, .cacheBuilt)
        XCTAssertEqual(try changed.sample(0).visual.shape, [4, 2, 32, 32])
        // Count framing stores UInt8.
        c.value = .count
        XCTAssertEqual(try JointDataset.load(c).train.visualFrames.encoding, .uint8)
        // A changed source file (size/mtime) rebuilds the visual cache only.
        c = configuration(root, cache: cache)
        let file = first.catalog.visual[0].url
        var events = try AEDAT.read(file)
        events.append(t: events.t.last! + 10, x: 50, y: 60, polarity: 1)
        try AEDAT.write(events, to: file)
        let rebuilt = try JointDataset.load(c).train
        XCTAssertEqual(rebuilt.visualFrames.origin, .cacheBuilt)
        XCTAssertEqual(rebuilt.audioFrames.origin, .cacheHit)
    }

    func testBadFileSkippedOrStops() throws {
        let (root, _) = try makeDataset(self)
        let bad = root.appendingPathComponent("grabbed_data4/scale4/mnist_4_scale04_0002.aedat")
        try Data("#!AER-DAT2.0\r\n".utf8 + [1, 2, 3]).write(to: bad)   // truncated event
        let (train, test) = try JointDataset.load(configuration(root))
        XCTAssertEqual(train.warnings.count, 1)
        XCTAssertEqual(train.count + test.count, 29)
        // Class 4 keeps recordings 1 and 3: ⌈2/2⌉ = 1 train (1), 1 test (3).
        XCTAssertEqual(train.pairs.filter { $0.label == 4 }.map { train.catalog.visual[$0.visual].name.index }, [1])
        var c = configuration(root)
        c.badFiles = .stop
        XCTAssertThrowsError(try JointDataset.load(c)) { error in
            XCTAssertTrue("\(error)".contains("mnist_4_scale04_0002.aedat"), "\(error)")
        }
    }

    func testMalformedKeySkippedOrStops() throws {
        let (root, _) = try makeDataset(self, extraKeys: ["man-qq-a-q"])
        let catalog = try JointDatasetCatalog(configuration: configuration(root))
        XCTAssertEqual(catalog.malformedKeys, ["man-qq-a-q"])
        XCTAssertEqual(catalog.audioCountPerClass, (0..<10).map { 2 + $0 % 3 })
        XCTAssertEqual(catalog.visualCountPerClass, [Int](repeating: 3, count: 10))
        var c = configuration(root)
        c.badFiles = .stop
        XCTAssertThrowsError(try JointDatasetCatalog(configuration: c)) { error in
            guard case let DatasetError.malformedKey(_, key, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(key, "man-qq-a-q")
        }
    }

    func testConfigurationJSONDefaults() throws {
        let json = #"{"mnistDVSRoot": "/d", "ntidigitsFile": "/d/n.hdf5", "timesteps": 32, "binning": {"fixedDuration": {"microseconds": 31250}}}"#
        let c = try JSONDecoder().decode(JointDatasetConfiguration.self, from: Data(json.utf8))
        XCTAssertEqual(c.timesteps, 32)
        XCTAssertEqual(c.cropSize, 32)
        XCTAssertEqual(c.binning, .fixedDuration(microseconds: 31_250))
        XCTAssertEqual(try JSONDecoder().decode(JointDatasetConfiguration.self, from: JSONEncoder().encode(c)), c)
        // The audio's 1-99 % span (issue 43): audio frames only, its own cache key, kept in JSON.
        XCTAssertEqual(c.audioTrimPercent, 0)
        let plain = JointDatasetConfiguration(mnistDVSRoot: "/d", ntidigitsFile: "/d/n.hdf5")
        XCTAssertEqual(plain.audioFraming.binning, .divideRecording)
        var trimmed = plain
        trimmed.audioTrimPercent = 1
        XCTAssertEqual(trimmed.audioFraming.binning, .divideTrimmedRecording(percent: 1))
        XCTAssertEqual(trimmed.visualFraming.binning, .divideRecording)
        XCTAssertEqual(try JSONDecoder().decode(JointDatasetConfiguration.self, from: JSONEncoder().encode(trimmed)), trimmed)
        XCTAssertNotEqual(trimmed.audioSettingsKey, plain.audioSettingsKey)   // no stale cache hit
        XCTAssertEqual(trimmed.visualSettingsKey, plain.visualSettingsKey)
        trimmed.binning = .fixedDuration(microseconds: 1000)   // fixed bins are not trimmed
        XCTAssertEqual(trimmed.audioFraming.binning, .fixedDuration(microseconds: 1000))
        trimmed.audioTrimPercent = 50
        XCTAssertThrowsError(try trimmed.validate())
        var bad = c
        bad.scale = 5
        XCTAssertThrowsError(try bad.validate())
    }
}

extension JointDatasetTests {
    /// The audio of an augmented joint sample: from the seed only (a resumed run's epoch
    /// gives the same), different from the clean frames, visual unchanged; DVS settings refused.
    func testAudioAugmentationSeededAndOnlyOnRequest() throws {
        let (root, _) = try makeDataset(self)
        let (train, test) = try JointDataset.load(configuration(root))
        let settings = try AugmentationSettings(parsing: "adrop=0.9,ashift=4,acrop=0.3")
        let clean = try train.sample(3)
        let epoch = AugmentedEpoch(train, augmentation: settings, runSeed: 5, epoch: 2)
        let first = try epoch.sample(3)
        let again = try AugmentedEpoch(train, augmentation: settings, runSeed: 5, epoch: 2).sample(3)   // as after a resume
        XCTAssertEqual(first.audio.scalars, again.audio.scalars)
        XCTAssertEqual(first.visual.scalars, clean.visual.scalars)
        XCTAssertEqual(first.audio.shape, clean.audio.shape)
        XCTAssertEqual(first.label, clean.label)
        let other = try AugmentedEpoch(train, augmentation: settings, runSeed: 5, epoch: 3).sample(3)
        XCTAssertNotEqual(first.audio.scalars, other.audio.scalars)
        XCTAssertNotEqual(first.audio.scalars, clean.audio.scalars)
        XCTAssertEqual(try train.sample(3).audio.scalars, clean.audio.scalars, "clean samples stay unaugmented")
        XCTAssertEqual(try test.sample(0).audio.scalars, try test.sample(0).audio.scalars)
        XCTAssertThrowsError(try train.sample(0, augmentedBy: AugmentationSettings(parsing: "flip"), seed: 1)) { error in
            XCTAssertTrue("\(error)".contains("flip"), "\(error)")
        }
        // the trainer's start-up check: DVS settings refused by name, audio ones taken
        XCTAssertThrowsError(try train.check(AugmentationSettings(parsing: "adrop=0.2,jitter=1"))) { error in
            XCTAssertTrue("\(error)".contains(": jitter augment DVS events"), "\(error)")
        }
        XCTAssertNoThrow(try train.check(AugmentationSettings(parsing: "adrop=0.2,ashift=1")))
    }
}
