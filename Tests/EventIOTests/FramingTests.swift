import XCTest
@testable import EventIO
import SpikeTensor

/// Plain reference framing: for each event compute its bin with the documented formula in
/// Double-free integer maths written out directly, then set/increment [k][c][y][x].
private func referenceDVSFrames(_ e: DVSEvents, T: Int, binning: TimeBinning, value: FrameValue, merge: Bool) -> [Float] {
    let P = merge ? 1 : 2, H = e.sensor.height, W = e.sensor.width
    var out = [Float](repeating: 0, count: T * P * H * W)
    guard let t0 = e.t.min(), let t1 = e.t.max() else { return out }
    var trimmed = (t0, t1)
    if case .divideTrimmedRecording(let p) = binning { trimmed = referencePercentileSpan(e.t, percent: p) }
    for i in 0..<e.count {
        let k: Int
        switch binning {
        case .divideRecording:
            k = Int((e.t[i] - t0) * Int64(T) / (t1 - t0 + 1))
        case .divideTrimmedRecording:
            let (lo, hi) = trimmed
            if e.t[i] < lo || e.t[i] > hi { continue }
            k = Int((e.t[i] - lo) * Int64(T) / (hi - lo + 1))
        case .divideSpan(let s, let d):
            if e.t[i] < s || e.t[i] >= s + d { continue }
            k = Int((e.t[i] - s) * Int64(T) / d)
        case .fixedDuration(let d):
            k = Int((e.t[i] - t0) / d)
            if k >= T { continue }
        }
        let c = merge ? 0 : (e.polarity[i] == 1 ? 0 : 1)
        let index = ((k * P + c) * H + Int(e.y[i])) * W + Int(e.x[i])
        out[index] = value == .binary ? 1 : out[index] + 1
    }
    return out
}

/// The documented percentiles written out: the m-th smallest and m-th largest time,
/// m = ⌊(n − 1)·p / 100⌋, by counting instead of sorting.
private func referencePercentileSpan(_ t: [Int64], percent p: Int) -> (Int64, Int64) {
    let m = (t.count - 1) * p / 100
    let lo = t.first { v in t.filter { $0 < v }.count <= m && t.filter { $0 <= v }.count > m }!
    let hi = t.first { v in t.filter { $0 > v }.count <= m && t.filter { $0 >= v }.count > m }!
    return (lo, hi)
}

final class FramingTests: XCTestCase {
    /// The trimmed span of issue 43, worked by hand: the doc comment's example.
    func testHandWorkedTrimmedRecording() {
        // 21 events at 0, 100…118, 900 µs; p = 5: m = ⌊20·5/100⌋ = 1 → lo = 100, hi = 118, span 19;
        // T = 2: bin(t) = ⌊(t − 100)·2/19⌋: 100…109 → 0 (⌊18/19⌋ = 0), 110…118 → 1; 0 and 900 dropped.
        var e = CochleaEvents(channelCount: 2)
        e.append(t: 0, channel: 1)
        for t in Int64(100)...118 { e.append(t: t, channel: 0) }
        e.append(t: 900, channel: 1)
        let trimmed = CochleaFraming(timesteps: 2, binning: .divideTrimmedRecording(percent: 5), value: .count)(e)
        XCTAssertEqual(trimmed.scalars, [10, 0, 9, 0])   // [T, C]: channel 1's two stray events dropped
        // Over first…last event (span 901) the 19 events of the utterance all fall in bin 0.
        let whole = CochleaFraming(timesteps: 2, value: .count)(e)
        XCTAssertEqual(whole.scalars, [19, 1, 0, 1])
        // p = 0 is divideRecording; fewer than 100/p events trim nothing (m = 0).
        XCTAssertEqual(CochleaFraming(timesteps: 2, binning: .divideTrimmedRecording(percent: 0), value: .count)(e).scalars, whole.scalars)
        XCTAssertEqual(CochleaFraming(timesteps: 2, binning: .divideTrimmedRecording(percent: 4), value: .count)(e).scalars, whole.scalars)
    }

    func testHandWorkedDivideRecording() {
        // Times 0, 10, 19, 20 µs, T = 4: span = 20 − 0 + 1 = 21;
        // bins ⌊0·4/21⌋ = 0, ⌊40/21⌋ = 1, ⌊76/21⌋ = 3, ⌊80/21⌋ = 3.
        let e = DVSEvents(sensor: SensorSize(width: 3, height: 2), t: [0, 10, 19, 20],
                          x: [0, 1, 2, 2], y: [0, 1, 1, 1], polarity: [1, 0, 1, 1])
        let binary = DVSFraming(timesteps: 4)(e)
        XCTAssertEqual(binary.shape, [4, 2, 2, 3])
        XCTAssertEqual(binary[0, 0, 0, 0], 1)   // ON at (0,0) in bin 0 → channel 0
        XCTAssertEqual(binary[1, 1, 1, 1], 1)   // OFF at (1,1) in bin 1 → channel 1
        XCTAssertEqual(binary[3, 0, 1, 2], 1)   // two ON events at (2,1) in bin 3 → binary 1
        XCTAssertEqual(binary.scalars.reduce(0, +), 3)
        let counts = DVSFraming(timesteps: 4, value: .count)(e)
        XCTAssertEqual(counts[3, 0, 1, 2], 2)
        let merged = DVSFraming(timesteps: 4, mergePolarity: true)(e)
        XCTAssertEqual(merged.shape, [4, 1, 2, 3])
        XCTAssertEqual(merged[1, 0, 1, 1], 1)
        // Fixed 10 µs bins from t0 = 0: 0 → 0, 10 → 1, 19 → 1, 20 → 2; T = 2 drops the last.
        let fixed = DVSFraming(timesteps: 2, binning: .fixedDuration(microseconds: 10), value: .count)(e)
        XCTAssertEqual(fixed.scalars.reduce(0, +), 3)
        XCTAssertEqual(fixed[1, 0, 1, 2], 1)
    }

    func testDVSFramingMatchesReferenceOnRandomStreams() {
        var g = SeededGenerator(seed: 11)
        for trial in 0..<40 {
            let sensor = SensorSize(width: 1 + Int(g.next() % 20), height: 1 + Int(g.next() % 20))
            var e = randomDVSEvents(&g, count: Int(g.next() % 400), sensor: sensor, maxGap: Int64(g.next() % 300))
            if trial % 4 == 3 {   // unsorted times: framing must still equal the per-event formula
                for i in 0..<e.count { let j = Int(g.next() % UInt64(e.count)); e.t.swapAt(i, j) }
            }
            let T = 1 + Int(g.next() % 12)
            let binnings: [TimeBinning] = [.divideRecording, .fixedDuration(microseconds: 1 + Int64(g.next() % 2000)),
                                           .divideTrimmedRecording(percent: Int(g.next() % 30)),
                                           .divideSpan(startMicroseconds: Int64(g.next() % 5000), durationMicroseconds: 1 + Int64(g.next() % 50000))]
            for binning in binnings { for value in [FrameValue.binary, .count] { for merge in [false, true] {
                let fast = DVSFraming(timesteps: T, binning: binning, value: value, mergePolarity: merge)(e)
                XCTAssertEqual(fast.shape, [T, merge ? 1 : 2, sensor.height, sensor.width])
                XCTAssertTrue(fast.scalars == referenceDVSFrames(e, T: T, binning: binning, value: value, merge: merge),
                               "trial \(trial) \(binning) \(value) merge \(merge)")
            }}}
        }
    }

    func testEveryEventLandsInABinWithDivideRecording() {
        var g = SeededGenerator(seed: 5)
        let e = randomDVSEvents(&g, count: 5000)
        let counts = DVSFraming(timesteps: 64, value: .count)(e)
        XCTAssertEqual(Int(counts.scalars.reduce(0, +)), 5000)
        // The first and last bins are both occupied.
        let perStep = 2 * 128 * 128
        XCTAssertGreaterThan(counts.scalars[0..<perStep].reduce(0, +), 0)
        XCTAssertGreaterThan(counts.scalars[(63 * perStep)...].reduce(0, +), 0)
    }

    func testEmptyStreamsAndOutOfSensorEventsGiveZeros() {
        XCTAssertEqual(DVSFraming(timesteps: 3)(DVSEvents(sensor: .dvs128)).scalars.reduce(0, +), 0)
        let outside = DVSEvents(sensor: SensorSize(width: 4, height: 4), t: [0], x: [9], y: [0], polarity: [1])
        XCTAssertEqual(DVSFraming(timesteps: 3)(outside).scalars.reduce(0, +), 0)
        XCTAssertEqual(CochleaFraming(timesteps: 3)(CochleaEvents()).shape, [3, 64])
    }

    func testCochleaFramingMatchesReference() {
        var g = SeededGenerator(seed: 13)
        for _ in 0..<30 {
            let channels = 1 + Int(g.next() % 64)
            var e = CochleaEvents(channelCount: channels)
            var t = Int64(g.next() % 100)
            for _ in 0..<Int(g.next() % 500) {
                t += Int64(g.next() % 200)
                e.append(t: t, channel: UInt16(g.next() % UInt64(channels)))
            }
            let T = 1 + Int(g.next() % 70)
            for binning in [TimeBinning.divideRecording, .fixedDuration(microseconds: 1 + Int64(g.next() % 3000)),
                            .divideTrimmedRecording(percent: 1 + Int(g.next() % 20))] {
                for value in [FrameValue.binary, .count] {
                    var ref = [Float](repeating: 0, count: T * channels)
                    if var t0 = e.t.min(), var t1 = e.t.max() {
                        if case .divideTrimmedRecording(let p) = binning { (t0, t1) = referencePercentileSpan(e.t, percent: p) }
                        for i in 0..<e.count {
                            let k: Int
                            if case .fixedDuration(let d) = binning { k = Int((e.t[i] - t0) / d); if k >= T { continue } }
                            else if e.t[i] < t0 || e.t[i] > t1 { continue }
                            else { k = Int((e.t[i] - t0) * Int64(T) / (t1 - t0 + 1)) }
                            let idx = k * channels + Int(e.channel[i])
                            ref[idx] = value == .binary ? 1 : ref[idx] + 1
                        }
                    }
                    let fast = CochleaFraming(timesteps: T, binning: binning, value: value)(e)
                    XCTAssertEqual(fast.shape, [T, channels])
                    XCTAssertTrue(fast.scalars == ref, "cochlea T \(T) \(binning) \(value)")
                }
            }
        }
    }

    func testHugeTimeSpansDoNotOverflow() {
        // Span ≈ 2⁶² µs with T = 64: (t − t0) · T overflows Int64, the 128-bit path must be exact.
        // t = 2⁶¹ is just under half of the span 2⁶² + 1 → bin ⌊2⁶¹ · 64 / (2⁶² + 1)⌋ = 31.
        let e = DVSEvents(sensor: SensorSize(width: 1, height: 1), t: [0, 1 << 61, 1 << 62], x: [0, 0, 0], y: [0, 0, 0], polarity: [1, 1, 1])
        let f = DVSFraming(timesteps: 64, value: .count)(e)
        XCTAssertEqual(f[0, 0, 0, 0], 1); XCTAssertEqual(f[31, 0, 0, 0], 1); XCTAssertEqual(f[63, 0, 0, 0], 1)
    }
}
