import XCTest
@testable import EventIO
import SpikeTensor

/// The audio (cochlea) augmentations on known event lists, their settings text, and seeds.
final class CochleaAugmentationTests: XCTestCase {
    /// 1000 events, t = 10·i µs, channel i mod 64.
    private let ramp = CochleaEvents(channelCount: 64, t: (0..<1000).map { Int64($0) * 10 },
                                     channel: (0..<1000).map { UInt16($0 % 64) })

    private func isOrdered(_ e: CochleaEvents) -> Bool { zip(e.t, e.t.dropFirst()).allSatisfy { $0 <= $1 } }

    func testEventDropKeepsASubsequenceAtADrawnRate() {
        var kept: [Int] = []
        for seed in 0..<200 as Range<UInt64> {
            var rng = SeededGenerator(seed: seed)
            let out = RandomEventDrop(maximumRate: 0.5)(ramp, using: &rng)
            XCTAssertTrue(isOrdered(out))
            // every kept event is an input event (t identifies it), channel unchanged
            XCTAssertTrue(zip(out.t, out.channel).allSatisfy { $1 == UInt16(($0 / 10) % 64) })
            kept.append(out.count)
        }
        // the rate is drawn per sample in [0, 0.5): counts spread over ~500…1000, never below ~450
        XCTAssertGreaterThan(kept.min()!, 430)
        XCTAssertLessThan(kept.min()!, 600)
        XCTAssertGreaterThan(kept.max()!, 950)
        var rng = SeededGenerator(seed: 3)
        XCTAssertEqual(RandomEventDrop(maximumRate: 0)(ramp, using: &rng), ramp)
    }

    func testChannelShiftMovesAndDropsOffTheEdge() {
        let e = CochleaEvents(channelCount: 64, t: [0, 1, 2, 3], channel: [0, 10, 62, 63])
        XCTAssertEqual(ChannelShift(by: 2)(e), CochleaEvents(channelCount: 64, t: [0, 1], channel: [2, 12]))
        XCTAssertEqual(ChannelShift(by: -1)(e), CochleaEvents(channelCount: 64, t: [1, 2, 3], channel: [9, 61, 62]))
        var shifts = Set<Int>()
        for seed in 0..<200 as Range<UInt64> {
            var rng = SeededGenerator(seed: seed)
            let out = RandomChannelShift(maximum: 2)(CochleaEvents(channelCount: 64, t: [5], channel: [30]), using: &rng)
            shifts.insert(Int(out.channel[0]) - 30)
        }
        XCTAssertEqual(shifts, [-2, -1, 0, 1, 2])
    }

    func testSpanCropCutsOnlyTheEnds() {
        var lows = [Int64](), highs = [Int64]()
        for seed in 0..<200 as Range<UInt64> {
            var rng = SeededGenerator(seed: seed)
            let out = RandomSpanCrop(maximumFraction: 0.2)(ramp, using: &rng)
            // a contiguous run of the input: first index = t/10, all in order
            let start = Int(out.t[0] / 10)
            XCTAssertEqual(out.t, Array(ramp.t[start..<start + out.count]))
            XCTAssertEqual(out.channel, Array(ramp.channel[start..<start + out.count]))
            lows.append(out.t.first!); highs.append(out.t.last!)
        }
        // span 9990 µs: at most 0.2 · 9990 = 1998 µs cut at each end, and some cut is made
        XCTAssertTrue(lows.allSatisfy { $0 < 1998 + 10 } && highs.allSatisfy { $0 > 9990 - 1998 - 10 })
        XCTAssertGreaterThan(lows.max()!, 1500)
        XCTAssertLessThan(highs.min()!, 8500)
        var rng = SeededGenerator(seed: 1)
        XCTAssertEqual(RandomSpanCrop(maximumFraction: 0.3)(CochleaEvents(t: [4], channel: [1]), using: &rng),
                       CochleaEvents(t: [4], channel: [1]))
    }

    func testSettingsTextAndErrors() throws {
        let s = try AugmentationSettings(parsing: "ashift=2, adrop=0.5,acrop=0.1")
        XCTAssertEqual(s.description, "adrop=0.5,ashift=2,acrop=0.1")
        XCTAssertEqual(s.audioNames, ["adrop", "ashift", "acrop"])
        XCTAssertTrue(s.visualNames.isEmpty && s.stages.isEmpty)
        XCTAssertEqual(s.audioStages.count, 3)
        let json = try JSONEncoder().encode(s)
        XCTAssertEqual(try JSONDecoder().decode(AugmentationSettings.self, from: json), s)
        XCTAssertEqual(try AugmentationSettings(parsing: "drop=0.1,adrop=0.2").visualNames, ["drop"])
        for (text, named) in [("ashift=1.5", "ashift"), ("ashift=64", "ashift"), ("adrop=2", "adrop"), ("acrop=0.5", "acrop")] {
            XCTAssertThrowsError(try AugmentationSettings(parsing: text), text) { error in
                XCTAssertTrue("\(error)".contains(named), "\(error)")
            }
        }
    }

    func testSameSeedSameOutput() {
        let pipeline = CochleaAugmentationPipeline([RandomEventDrop(maximumRate: 0.5), RandomChannelShift(maximum: 3),
                                                    RandomSpanCrop(maximumFraction: 0.2)])
        var a = SeededGenerator(seed: 9), b = SeededGenerator(seed: 9), c = SeededGenerator(seed: 10)
        let x = pipeline(ramp, using: &a)
        XCTAssertEqual(x, pipeline(ramp, using: &b))
        XCTAssertNotEqual(x, pipeline(ramp, using: &c))
    }
}
