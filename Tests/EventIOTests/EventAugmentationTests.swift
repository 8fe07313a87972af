import XCTest
@testable import EventIO
import SpikeTensor

/// Fails unless `e` is time-ordered and every event is on its sensor.
private func assertWellFormed(_ e: DVSEvents, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertTrue(zip(e.t, e.t.dropFirst()).allSatisfy { $0 <= $1 }, "\(what): times out of order", file: file, line: line)
    let w = e.sensor.width, h = e.sensor.height
    XCTAssertTrue(zip(e.x, e.y).allSatisfy { Int($0) < w && Int($1) < h }, "\(what): event off the \(e.sensor) sensor",
                  file: file, line: line)
    XCTAssertTrue(e.polarity.allSatisfy { $0 <= 1 }, "\(what): polarity not 0 or 1", file: file, line: line)
}

/// The (t, x, y, p) tuples of `e`, for comparing event lists.
private func tuples(_ e: DVSEvents) -> [[Int64]] {
    (0..<e.count).map { [e.t[$0], Int64(e.x[$0]), Int64(e.y[$0]), Int64(e.polarity[$0])] }
}

/// True when `part`'s events appear in `whole` in the same order.
private func isSubsequence(_ part: DVSEvents, of whole: DVSEvents) -> Bool {
    var it = tuples(whole).makeIterator()
    return tuples(part).allSatisfy { p in
        while let w = it.next() { if w == p { return true } }
        return false
    }
}

/// A random, time-ordered event list on a random sensor (the generator's own draws).
private func randomEvents(_ rng: inout SeededGenerator, maxCount: Int = 60) -> DVSEvents {
    let w = 1 + Int(rng.below(40)), h = 1 + Int(rng.below(40))
    let n = Int(rng.below(UInt64(maxCount + 1)))
    var t: Int64
    switch rng.below(4) {
    case 0: t = .min + Int64(rng.below(100))             // times near the Int64 ends
    case 1: t = .max - 2000
    case 2: t = -Int64(rng.below(10_000))
    default: t = Int64(rng.below(1_000_000))
    }
    var e = DVSEvents(sensor: SensorSize(width: w, height: h))
    for _ in 0..<n {
        let (next, overflow) = t.addingReportingOverflow(Int64(rng.below(50)))
        t = overflow ? .max : next
        e.append(t: t, x: UInt16(rng.below(UInt64(w))), y: UInt16(rng.below(UInt64(h))), polarity: UInt8(rng.below(2)))
    }
    return e
}

final class EventAugmentationTests: XCTestCase {
    /// 8 × 6 sensor; (t µs, x, y, p).
    private let sample = DVSEvents(sensor: SensorSize(width: 8, height: 6),
                                   t: [0, 5, 10, 15, 20], x: [1, 2, 7, 4, 2], y: [1, 2, 5, 0, 1], polarity: [1, 0, 1, 0, 1])

    /// 2 000 events spread over a 32 × 24 sensor, for the statistical and seed checks.
    private var large: DVSEvents {
        var rng = SeededGenerator(seed: 99)
        var e = DVSEvents(sensor: SensorSize(width: 32, height: 24))
        for i in 0..<2000 {
            e.append(t: Int64(i * 3), x: UInt16(rng.below(32)), y: UInt16(rng.below(24)), polarity: UInt8(rng.below(2)))
        }
        return e
    }

    // MARK: Seeding rule

    func testSeedDerivationIsAFixedHash() {
        // Values from an independent Python implementation of the documented SplitMix64 chain.
        XCTAssertEqual(AugmentationSeed.derive(run: 0, epoch: 0, sample: 0), 0x428c_bbb4_2938_7025)
        XCTAssertEqual(AugmentationSeed.derive(run: 7, epoch: 3, sample: 41), 0x0ad5_b8d9_3e31_4734)
        var seen = Set<UInt64>()
        for run: UInt64 in 0..<4 { for epoch in 0..<10 { for sample in 0..<50 {
            seen.insert(AugmentationSeed.derive(run: run, epoch: epoch, sample: sample))
        }}}
        XCTAssertEqual(seen.count, 4 * 10 * 50, "every (run, epoch, sample) gets its own seed")
    }

    // MARK: Each augmentation's effect

    func testDropEventsCounts() {
        var rng = SeededGenerator(seed: 1)
        XCTAssertEqual(DropEvents(probability: 0)(large, using: &rng), large)
        let none = DropEvents(probability: 1)(large, using: &rng)
        XCTAssertTrue(none.isEmpty); XCTAssertEqual(none.sensor, large.sensor)
        let half = DropEvents(probability: 0.25)(large, using: &rng)
        XCTAssertEqual(Double(half.count) / Double(large.count), 0.75, accuracy: 0.04)
        XCTAssertTrue(isSubsequence(half, of: large))
    }

    func testSpatialJitterMovesOnlyPositions() {
        var rng = SeededGenerator(seed: 2)
        XCTAssertEqual(SpatialJitter(sigma: 0)(large, using: &rng), large)
        // σy = 0: y and times stay, x moves with a standard deviation of about 3 pixels.
        let clamped = SpatialJitter(sigmaX: 3, sigmaY: 0, border: .clamp)(large, using: &rng)
        XCTAssertEqual(clamped.count, large.count); XCTAssertEqual(clamped.t, large.t); XCTAssertEqual(clamped.y, large.y)
        XCTAssertEqual(clamped.polarity, large.polarity)
        assertWellFormed(clamped, "clamp")
        let moved = zip(clamped.x, large.x).filter { $0 != $1 }.count
        XCTAssertGreaterThan(moved, large.count / 2)
        // With .drop, events pushed off the sensor vanish; the middle of a wide sensor keeps all.
        let middle = DVSEvents(sensor: SensorSize(width: 1000, height: 1000), t: Array(0..<500),
                               x: Array(repeating: 500, count: 500), y: Array(repeating: 500, count: 500),
                               polarity: Array(repeating: 1, count: 500))
        let spread = SpatialJitter(sigma: 2)(middle, using: &rng)
        XCTAssertEqual(spread.count, 500)
        let dx = spread.x.map { Double(Int($0) - 500) }
        let variance = dx.reduce(0) { $0 + $1 * $1 } / Double(dx.count)
        XCTAssertEqual(variance.squareRoot(), 2, accuracy: 0.3)
        let corner = DVSEvents(sensor: SensorSize(width: 1, height: 1), t: Array(0..<200),
                               x: Array(repeating: 0, count: 200), y: Array(repeating: 0, count: 200),
                               polarity: Array(repeating: 0, count: 200))
        let dropped = SpatialJitter(sigma: 2)(corner, using: &rng)
        XCTAssertLessThan(dropped.count, 150, "moves off a 1×1 sensor are dropped")
        XCTAssertEqual(SpatialJitter(sigma: 2, border: .clamp)(corner, using: &rng), corner)
    }

    func testTimeJitterReSortsStably() {
        var rng = SeededGenerator(seed: 3)
        XCTAssertEqual(TimeJitter(sigmaMicroseconds: 0)(large, using: &rng), large)
        let jittered = TimeJitter(sigmaMicroseconds: 10)(large, using: &rng)
        assertWellFormed(jittered, "time jitter")
        XCTAssertNotEqual(jittered.t, large.t)
        XCTAssertEqual(tuples(jittered).map { $0.dropFirst() }.sorted { $0.lexicographicallyPrecedes($1) },
                       tuples(large).map { $0.dropFirst() }.sorted { $0.lexicographicallyPrecedes($1) },
                       "the same events (x, y, p), only moved in time")
        // Stable: events landing on the same time keep their input order.
        let e = DVSEvents(sensor: SensorSize(width: 8, height: 1), t: [0, 0, 0, 0], x: [0, 1, 2, 3], y: [0, 0, 0, 0],
                          polarity: [0, 0, 0, 0])
        let r = e._reordered(times: [5, 3, 5, 3])
        XCTAssertEqual(r.t, [3, 3, 5, 5]); XCTAssertEqual(r.x, [1, 3, 0, 2])
        // Saturates instead of overflowing.
        let end = DVSEvents(sensor: SensorSize(width: 1, height: 1), t: [.max, .max], x: [0, 0], y: [0, 0], polarity: [1, 1])
        assertWellFormed(TimeJitter(sigmaMicroseconds: 1e6)(end, using: &rng), "saturation")
    }

    func testHorizontalFlip() {
        let flipped = HorizontalFlip()(sample)
        XCTAssertEqual(flipped.x, [6, 5, 0, 3, 5])              // x → 8 − 1 − x
        XCTAssertEqual(flipped.y, sample.y); XCTAssertEqual(flipped.t, sample.t); XCTAssertEqual(flipped.sensor, sample.sensor)
        XCTAssertEqual(HorizontalFlip()(flipped), sample)
        var rng = SeededGenerator(seed: 4)
        XCTAssertEqual(RandomHorizontalFlip(probability: 1)(sample, using: &rng), flipped)
        XCTAssertEqual(RandomHorizontalFlip(probability: 0)(sample, using: &rng), sample)
        let flips = (0..<400).filter { _ in RandomHorizontalFlip()(sample, using: &rng) == flipped }.count
        XCTAssertEqual(Double(flips) / 400, 0.5, accuracy: 0.08)
    }

    func testUniformNoiseAddsEventsInTimeOrder() {
        var rng = SeededGenerator(seed: 5)
        let noisy = UniformNoise(count: 7)(sample, using: &rng)
        XCTAssertEqual(noisy.count, 12); XCTAssertEqual(noisy.sensor, sample.sensor)
        assertWellFormed(noisy, "noise")
        XCTAssertTrue(isSubsequence(sample, of: noisy), "the input's events all stay, in order")
        XCTAssertTrue(noisy.t.allSatisfy { (0...20).contains($0) })
        // Rate: round(0.01 /µs/pixel × 20 µs × 48 pixels) = round(9.6) = 10 events.
        XCTAssertEqual(UniformNoise(.rate(perMicrosecondPerPixel: 0.01)).noiseCount(for: sample), 10)
        XCTAssertEqual(UniformNoise(.rate(perMicrosecondPerPixel: 0.01))(sample, using: &rng).count, 15)
        // Empty input: no time span, no noise.
        XCTAssertEqual(UniformNoise(count: 5)(DVSEvents(sensor: sample.sensor), using: &rng).count, 0)
        // At equal times the input comes first.
        let still = DVSEvents(sensor: sample.sensor, t: [5, 5], x: [1, 2], y: [3, 4], polarity: [1, 0])
        let tied = UniformNoise(count: 3)(still, using: &rng)
        XCTAssertEqual(tied.t, [5, 5, 5, 5, 5]); XCTAssertEqual(Array(tied.x.prefix(2)), [1, 2])
        // Many noise events cover the sensor and both polarities.
        let lots = UniformNoise(count: 3000)(sample, using: &rng)
        XCTAssertEqual(Set(zip(lots.x, lots.y).map { Int($0) * 8 + Int($1) }).count, 48)
        XCTAssertEqual(Double(lots.onCount) / Double(lots.count), 0.5, accuracy: 0.04)
        // Both ends of [t_min, t_max] are drawn (about 3000 / 21 noise events on each µs).
        XCTAssertGreaterThan(lots.t.filter { $0 == 0 }.count, 50); XCTAssertGreaterThan(lots.t.filter { $0 == 20 }.count, 50)
    }

    func testTimeSkewArithmetic() {
        XCTAssertEqual(TimeSkew(coefficient: 2, offsetMicroseconds: -5)(sample).t, [-5, 5, 15, 25, 35])
        // 0.5·t + 0.25 = 0.25, 2.75, 5.25, 7.75, 10.25 → rounded to nearest.
        XCTAssertEqual(TimeSkew(coefficient: 0.5, offsetMicroseconds: 0.25)(sample).t, [0, 3, 5, 8, 10])
        XCTAssertEqual(TimeSkew(coefficient: 2)(sample).x, sample.x)
        let end = DVSEvents(sensor: sample.sensor, t: [.min, 0, .max], x: [0, 0, 0], y: [0, 0, 0], polarity: [0, 0, 0])
        XCTAssertEqual(TimeSkew(coefficient: 3, offsetMicroseconds: 1)(end).t, [.min, 1, .max])
        var rng = SeededGenerator(seed: 6)
        XCTAssertEqual(RandomTimeSkew(coefficients: 2...2, offsetsMicroseconds: 3...3)(sample, using: &rng).t,
                       [3, 13, 23, 33, 43])
        let skewed = RandomTimeSkew(coefficients: 0.8...1.2, offsetsMicroseconds: -100...100)(large, using: &rng)
        assertWellFormed(skewed, "random skew")
        XCTAssertNotEqual(skewed.t, large.t)
    }

    func testRandomCropBoxAndSensor() {
        var rng = SeededGenerator(seed: 7)
        let crop = RandomCrop(width: 3, height: 2)
        var lefts = Set<Int>(), tops = Set<Int>()
        for seed: UInt64 in 0..<300 {
            var a = SeededGenerator(seed: seed), b = a
            let (x, y) = crop.box(on: sample.sensor, using: &a)
            lefts.insert(x); tops.insert(y)
            let out = crop(sample, using: &b)
            XCTAssertEqual(out, SpatialCrop(x: x, y: y, width: 3, height: 2)(sample))
            XCTAssertEqual(out.sensor, SensorSize(width: 3, height: 2))
            assertWellFormed(out, "crop")
        }
        XCTAssertEqual(lefts, Set(0...5)); XCTAssertEqual(tops, Set(0...4))
        // A crop larger than the sensor sits at (0, 0) and keeps every event.
        let big = RandomCrop(width: 10, height: 9)(sample, using: &rng)
        XCTAssertEqual(big.sensor, SensorSize(width: 10, height: 9)); XCTAssertEqual(big.t, sample.t); XCTAssertEqual(big.x, sample.x)
    }

    func testEdgeCasesStayOnTheSensor() {
        var rng = SeededGenerator(seed: 8)
        // The whole Int64 time range as the noise span.
        let ends = DVSEvents(sensor: SensorSize(width: 4, height: 4), t: [.min, .max], x: [0, 3], y: [0, 3], polarity: [0, 1])
        let noisy = UniformNoise(count: 200)(ends, using: &rng)
        XCTAssertEqual(noisy.count, 202); assertWellFormed(noisy, "full span")
        XCTAssertEqual(noisy.t.first, .min); XCTAssertEqual(noisy.t.last, .max)
        XCTAssertTrue(noisy.t.dropFirst().dropLast().contains { $0 < 0 } && noisy.t.contains { $0 > 0 && $0 < .max })
        // A sensor wider than 16-bit x: a flip that would land past 65 535 drops the event,
        // and noise stays in the addressable columns.
        let wide = DVSEvents(sensor: SensorSize(width: 70_000, height: 1), t: [0, 1], x: [0, 10_000], y: [0, 0], polarity: [1, 1])
        XCTAssertEqual(HorizontalFlip()(wide).x, [59_999])
        assertWellFormed(UniformNoise(count: 100)(wide, using: &rng), "wide noise")
        // An empty sensor: nothing survives jitter, nothing is added as noise.
        let empty = DVSEvents(sensor: SensorSize(width: 0, height: 0))
        XCTAssertEqual(UniformNoise(count: 3)(empty, using: &rng).count, 0)
        XCTAssertEqual(RandomCrop(width: 2, height: 2)(empty, using: &rng).sensor, SensorSize(width: 2, height: 2))
    }

    // MARK: Reproducibility and composition

    private var everyAugmentation: [(String, any DVSAugmentation)] {
        [("drop", DropEvents(probability: 0.3)), ("spatial jitter", SpatialJitter(sigma: 1.5)),
         ("spatial jitter clamp", SpatialJitter(sigma: 1.5, border: .clamp)),
         ("time jitter", TimeJitter(sigmaMicroseconds: 20)), ("flip", RandomHorizontalFlip()),
         ("noise", UniformNoise(count: 40)), ("noise rate", UniformNoise(.rate(perMicrosecondPerPixel: 1e-5))),
         ("skew", RandomTimeSkew(coefficients: 0.5...2, offsetsMicroseconds: -1000...1000)),
         ("crop", RandomCrop(width: 20, height: 15))]
    }

    func testSameSeedSameOutputDifferentSeedDifferentOutput() {
        let e = large
        for (name, aug) in everyAugmentation {
            XCTAssertEqual(aug.seeded(11)(e), aug.seeded(11)(e), name)
            if name == "flip" {   // one coin per sample: look over several seeds
                XCTAssertGreaterThan(Set(((0..<8) as Range<UInt64>).map { tuples(aug.seeded($0)(e)) }).count, 1, name)
            } else {
                XCTAssertNotEqual(aug.seeded(11)(e), aug.seeded(12)(e), name)
            }
        }
    }

    func testComposedPipeline() {
        let pipeline = AugmentationPipeline([DropEvents(probability: 0.2), FixedTransform(HorizontalFlip()),
                                             SpatialJitter(sigma: 1), TimeJitter(sigmaMicroseconds: 5),
                                             UniformNoise(count: 30), RandomCrop(width: 16, height: 16)])
        let seed = AugmentationSeed.derive(run: 1, epoch: 2, sample: 3)
        let out = pipeline(large, seed: seed)
        assertWellFormed(out, "pipeline")
        XCTAssertEqual(out.sensor, SensorSize(width: 16, height: 16))
        XCTAssertEqual(out, pipeline(large, seed: seed))
        XCTAssertNotEqual(out, pipeline(large, seed: AugmentationSeed.derive(run: 1, epoch: 3, sample: 3)))
        // The stages in order on one generator, by hand.
        var rng = SeededGenerator(seed: seed)
        var manual = DropEvents(probability: 0.2)(large, using: &rng)
        manual = HorizontalFlip()(manual)
        manual = SpatialJitter(sigma: 1)(manual, using: &rng)
        manual = TimeJitter(sigmaMicroseconds: 5)(manual, using: &rng)
        manual = UniformNoise(count: 30)(manual, using: &rng)
        manual = RandomCrop(width: 16, height: 16)(manual, using: &rng)
        XCTAssertEqual(out, manual)
        // A seeded augmentation composes with the deterministic transforms.
        let mixed = CentroidCrop(width: 24, height: 20).then(DropEvents(probability: 0.5).seeded(9)).then(Downsample(factor: 2))
        XCTAssertEqual(mixed(large), mixed(large))
        XCTAssertEqual(mixed(large).sensor, SensorSize(width: 12, height: 10))
    }

    // MARK: Property check

    func testNoTrapAndWellFormedOverRandomEventLists() {
        var rng = SeededGenerator(seed: 2026)
        let deterministic: [(String, any DVSTransform)] = [
            ("flip", HorizontalFlip()), ("skew", TimeSkew(coefficient: 1.7, offsetMicroseconds: -3e5)),
            ("skew small", TimeSkew(coefficient: 1e-3)),
        ]
        for round in 0..<400 {
            let e = randomEvents(&rng)
            assertWellFormed(e, "input \(round)")
            for (name, aug) in everyAugmentation + [("pipeline", AugmentationPipeline(everyAugmentation.map(\.1)))] {
                let out = aug.seeded(UInt64(round))(e)
                assertWellFormed(out, "\(name), list \(round)")
            }
            for (name, transform) in deterministic { assertWellFormed(transform(e), "\(name), list \(round)") }
            XCTAssertEqual(HorizontalFlip()(e).count, e.count, "list \(round)")
            XCTAssertEqual(TimeJitter(sigmaMicroseconds: 1e4).seeded(1)(e).count, e.count, "list \(round)")
        }
    }
}
