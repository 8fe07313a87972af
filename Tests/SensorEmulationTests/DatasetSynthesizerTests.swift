import Foundation
import XCTest
@testable import SensorEmulation
import SpikeTensor
import EventIO

final class DatasetSynthesizerTests: XCTestCase {
    func testDeterministicAndIndependentOfScheduling() throws {
        let plan = SynthesisPlan(pairCount: 12, seed: 77)
        let a = try DatasetSynthesizer(plan: plan).run()
        let b = try DatasetSynthesizer(plan: plan).run()
        XCTAssertEqual(a, b)
        // serial, in reverse order, gives the same pairs as the parallel run
        let serial = try (0..<12).reversed().map { try DatasetSynthesizer(plan: plan).pair($0) }
        XCTAssertEqual(Array(serial.reversed()), a)
        let other = try DatasetSynthesizer(plan: SynthesisPlan(pairCount: 12, seed: 78)).run()
        XCTAssertNotEqual(a[0].visual.events, other[0].visual.events)
        XCTAssertNotEqual(a[0].audio.events, other[0].audio.events)
    }

    /// Labels cycle 0…9; keys parse as N-TIDIGITS keys with the right digit; the first half
    /// of each class trains; keys are unique within a split; progress reaches the total.
    func testLabelsKeysSplitsAndProgress() throws {
        let plan = SynthesisPlan(pairCount: 40, seed: 5)
        // (no XCTAssert inside the callback: it runs on worker threads while the test's
        // thread waits in concurrentPerform, and XCTest's failure reporting may need it)
        let calls = ProgressCounter(), badTotals = ProgressCounter()
        let pairs = try DatasetSynthesizer(plan: plan).run { done, total in
            calls.increment { _ in }
            if total != 40 || done > 40 { badTotals.increment { _ in } }
        }
        var callCount = 0, badCount = 0
        calls.increment { callCount = $0 - 1 }
        badTotals.increment { badCount = $0 - 1 }
        XCTAssertEqual(callCount, 40)
        XCTAssertEqual(badCount, 0)
        var keys: [Split: Set<String>] = [:]
        for (i, p) in pairs.enumerated() {
            XCTAssertEqual(p.visual.label, i % 10)
            XCTAssertEqual(p.visual.index, i / 10 + 1)
            let key = try NTidigitsKey(parsing: p.audio.key)
            XCTAssertEqual(key.jointLabel, i % 10, p.audio.key)
            XCTAssertEqual(p.audio.split, i / 10 < 2 ? .train : .test)   // 4 per class: 2 train
            XCTAssert(keys[p.audio.split, default: []].insert(p.audio.key).inserted, "duplicate \(p.audio.key)")
            XCTAssertEqual(p.corruption, .none)
            XCTAssertGreaterThan(p.visual.events.count, 3000)
            XCTAssertGreaterThan(p.audio.events.count, 300)
            XCTAssertEqual(p.audio.events.t, p.audio.events.t.sorted())
            XCTAssertEqual(p.visual.events.t, p.visual.events.t.sorted())
        }
        // sessions a/b of the same speaker share the voice: pairs 0 and 10 are s01-a / s01-b
        XCTAssertTrue(pairs[0].audio.key.hasSuffix("-s01-a-z") && pairs[10].audio.key.hasSuffix("-s01-b-z"))
    }

    /// --corrupt 0.5 over 200 draws: about 100 corrupted (binomial σ ≈ 7), both modalities used.
    func testCorruptionChoiceFractionAndModalities() {
        let c = CorruptionSettings(fraction: 0.5)
        var kinds: [CorruptionKind] = []
        for i in 0..<200 {
            var rng = EmulationSeeds.generator(seed: 1, index: i, stream: .corruption)
            kinds.append(c.choose(using: &rng))
        }
        let corrupted = kinds.filter { $0 != .none }
        XCTAssertEqual(Double(corrupted.count), 100, accuracy: 25)
        XCTAssertEqual(Set(corrupted.map(\.modality)), ["visual", "audio"])
        XCTAssertEqual(Set(kinds).count, 5)
        var rng = SeededGenerator(seed: 1)
        XCTAssertEqual(CorruptionSettings(fraction: 0).choose(using: &rng), .none)
    }

    func testCorruptionsDegradeTheirModality() throws {
        var rng = SeededGenerator(seed: 3)
        let image = DigitGlyphRenderer().render(digit: 4, using: &rng)
        let clean = try DVSMonitorRecorder.mnistDVSPreset.record(image: image, width: 28, height: 28, using: &rng)
        let c = CorruptionSettings(fraction: 1)
        let burst = c.corruptVisual(clean, kind: .visualNoiseBurst, using: &rng)
        // 15 Hz × 48² px × ≥ 0.4 s ≥ 13,800 extra events
        XCTAssertGreaterThan(burst.count - clean.count, 10_000)
        XCTAssertEqual(burst.t, burst.t.sorted())
        let occluded = c.corruptVisual(clean, kind: .visualOcclusion, using: &rng)
        XCTAssertLessThan(occluded.count, clean.count * 8 / 10)
        let audio = CochleaEvents(channelCount: 64, t: [0, 500_000], channel: [1, 2])
        let noisy = c.corruptAudio(audio, durationMicroseconds: 1_000_000, using: &rng)
        // 150 Hz × 64 channels × ≥ 0.2 s ≥ 1920 extra events
        XCTAssertGreaterThan(noisy.count, 1500)
        XCTAssertEqual(noisy.t, noisy.t.sorted())
        let plan = SynthesisPlan(pairCount: 20, seed: 9, settings: SynthesisSettings(corruption: CorruptionSettings(fraction: 1)))
        let pairs = try DatasetSynthesizer(plan: plan).run()
        XCTAssertTrue(pairs.allSatisfy { $0.corruption != .none })
    }

    /// Same seed → same bytes on disk (AEDAT files, N-TIDIGITS HDF5 and manifest), and the
    /// files read back to the synthesised events.
    func testWriterRoundTripAndSameBytes() throws {
        let plan = SynthesisPlan(pairCount: 20, seed: 21, settings: SynthesisSettings(corruption: CorruptionSettings(fraction: 0.3)))
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("spikefuse-emu-\(ProcessInfo.processInfo.processIdentifier)")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let a = tmp.appendingPathComponent("a"), b = tmp.appendingPathComponent("b")
        let pairs = try DatasetSynthesizer(plan: plan).run()
        try DatasetWriter.write(pairs, plan: plan, to: a)
        try DatasetWriter.write(try DatasetSynthesizer(plan: plan).run(), plan: plan, to: b)
        for p in pairs {
            let path = DatasetWriter.visualPath(label: p.visual.label, index: p.visual.index)
            XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent(path)), try Data(contentsOf: b.appendingPathComponent(path)))
            XCTAssertEqual(try AEDAT.read(a.appendingPathComponent(path)), p.visual.events)
        }
        XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent("manifest.json")),
                       try Data(contentsOf: b.appendingPathComponent("manifest.json")))
        let layout = try MNISTDVSLayout(root: a).recordings()
        XCTAssertEqual(layout.count, 20)
        let h5a = a.appendingPathComponent("n-tidigits.hdf5")
        XCTAssertEqual(try Data(contentsOf: h5a), try Data(contentsOf: b.appendingPathComponent("n-tidigits.hdf5")))
        let file = try NTidigitsFile.open(h5a)
        for p in pairs {
            XCTAssertEqual(try file.events(key: p.audio.key, split: p.audio.split), p.audio.events, p.audio.key)
        }
        let manifest = try JSONDecoder().decode(DatasetWriter.Manifest.self,
                                                from: Data(contentsOf: a.appendingPathComponent("manifest.json")))
        XCTAssertEqual(manifest.pairs.map(\.corruption), pairs.map(\.corruption.rawValue))
    }
}
