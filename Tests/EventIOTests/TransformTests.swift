import XCTest
@testable import EventIO
import SpikeTensor

/// Plain O(n²) references for the filters, straight from their definitions.
private func referenceBackgroundActivity(_ e: DVSEvents, window: Int64) -> DVSEvents {
    e._filtered { i in
        (0..<i).contains { j in
            let dx = abs(Int(e.x[i]) - Int(e.x[j])), dy = abs(Int(e.y[i]) - Int(e.y[j]))
            return dx <= 1 && dy <= 1 && (dx, dy) != (0, 0) && e.t[i] - e.t[j] < window
        }
    }
}

private func referenceRefractory(_ e: DVSEvents, period: Int64) -> DVSEvents {
    var kept: [Int] = []
    for i in 0..<e.count {
        let lastKept = kept.last { e.x[$0] == e.x[i] && e.y[$0] == e.y[i] }
        if let j = lastKept, e.t[i] - e.t[j] < period { continue }
        kept.append(i)
    }
    return e._filtered { kept.contains($0) }
}

final class TransformTests: XCTestCase {
    private let sample = DVSEvents(sensor: SensorSize(width: 8, height: 6),
                                   t: [0, 5, 10, 15, 20], x: [1, 2, 7, 4, 2], y: [1, 2, 5, 0, 1], polarity: [1, 0, 1, 0, 1])

    func testTimeWindowIsHalfOpen() {
        let w = TimeWindow(startMicroseconds: 5, endMicroseconds: 15)
        XCTAssertEqual(w(sample).t, [5, 10])
        let c = CochleaEvents(channelCount: 4, t: [1, 5, 14, 15], channel: [0, 1, 2, 3])
        XCTAssertEqual(w(c).channel, [1, 2])
    }

    func testSpatialCropShiftsAndResizes() {
        // Box x 1..<4, y 1..<3 keeps (1,1), (2,2), (2,1) → (0,0), (1,1), (1,0).
        let out = SpatialCrop(x: 1, y: 1, width: 3, height: 2)(sample)
        XCTAssertEqual(out.sensor, SensorSize(width: 3, height: 2))
        XCTAssertEqual(out.x, [0, 1, 1]); XCTAssertEqual(out.y, [0, 1, 0]); XCTAssertEqual(out.t, [0, 5, 20])
    }

    func testCentroidCropCentresAndClamps() {
        // Centroid x̄ = (1+2+7+4+2)/5 = 3.2, ȳ = (1+2+5+0+1)/5 = 1.8.
        // width 4: left = round(3.2 − 1.5) = round(1.7) = 2; height 2: top = round(1.8 − 0.5) = 1.
        let crop = CentroidCrop(width: 4, height: 2)
        XCTAssertTrue(crop.box(for: sample) == (2, 1))
        // width 8 = sensor: left clamps to 0; height 5: round(1.8 − 2) = 0 → 0 (≤ 6 − 5 = 1).
        XCTAssertTrue(CentroidCrop(width: 8, height: 5).box(for: sample) == (0, 0))
        // All events at the right edge: left = round(7 − 1.5) = 6 (5.5 rounds away from zero), clamped to 8 − 4 = 4.
        let edge = DVSEvents(sensor: sample.sensor, t: [0, 1], x: [7, 7], y: [0, 0], polarity: [1, 1])
        XCTAssertEqual(crop.box(for: edge).x, 4)
        XCTAssertEqual(crop(edge).x, [3, 3])
    }

    func testDownsample() {
        // factor 3: x 1,2,7,4,2 → 0,0,2,1,0; y 1,2,5,0,1 → 0,0,1,0,0; sensor ⌈8/3⌉ × ⌈6/3⌉ = 3 × 2.
        let out = Downsample(factor: 3)(sample)
        XCTAssertEqual(out.x, [0, 0, 2, 1, 0]); XCTAssertEqual(out.y, [0, 0, 1, 0, 0])
        XCTAssertEqual(out.sensor, SensorSize(width: 3, height: 2))
    }

    func testMergePolarity() {
        XCTAssertEqual(MergePolarity()(sample).polarity, [1, 1, 1, 1, 1])
        // Merged then framed with two channels = everything in channel 0 = framing with mergePolarity.
        let a = DVSFraming(timesteps: 2)(MergePolarity()(sample))
        let b = DVSFraming(timesteps: 2, mergePolarity: true)(sample)
        XCTAssertEqual(Array(a.scalars[0..<48]), Array(b.scalars[0..<48]))
    }

    func testBackgroundActivityFilterHandWorked() {
        // (1,1)@0: no earlier neighbour → drop. (2,2)@5: (1,1) fired 5 µs before, < 8 → keep.
        // (7,5)@10: isolated → drop. (4,0)@15: none adjacent → drop.
        // (2,1)@20: neighbours (1,1)@0 (20 ≥ 8), (2,2)@5 (15 ≥ 8) → drop.
        XCTAssertEqual(BackgroundActivityFilter(timeWindowMicroseconds: 8)(sample).t, [5])
        // With a 16 µs window (2,1)@20 sees (2,2)@5: 15 < 16 → keep.
        XCTAssertEqual(BackgroundActivityFilter(timeWindowMicroseconds: 16)(sample).t, [5, 20])
    }

    func testFiltersMatchReferencesOnRandomStreams() {
        var g = SeededGenerator(seed: 21)
        for _ in 0..<30 {
            let sensor = SensorSize(width: 1 + Int(g.next() % 10), height: 1 + Int(g.next() % 10))
            let e = randomDVSEvents(&g, count: Int(g.next() % 300), sensor: sensor, maxGap: 30)
            let window = Int64(g.next() % 200)
            XCTAssertEqual(BackgroundActivityFilter(timeWindowMicroseconds: window)(e), referenceBackgroundActivity(e, window: window))
            XCTAssertEqual(RefractoryFilter(periodMicroseconds: window)(e), referenceRefractory(e, period: window))
        }
    }

    func testRefractoryHandWorked() {
        // Pixel (0,0) at 0, 3, 6, 12 µs with period 5: keep 0; 3 − 0 < 5 drop; 6 − 0 ≥ 5 keep; 12 − 6 ≥ 5 keep.
        let e = DVSEvents(sensor: SensorSize(width: 1, height: 1), t: [0, 3, 6, 12], x: [0, 0, 0, 0], y: [0, 0, 0, 0], polarity: [1, 0, 1, 1])
        XCTAssertEqual(RefractoryFilter(periodMicroseconds: 5)(e).t, [0, 6, 12])
    }

    func testPipelineComposesInOrder() {
        // Crop to x 1..<5, y 0..<3 → (1,1)@0 → (0,1), (2,2)@5 → (1,2), (4,0)@15 → (3,0), (2,1)@20 → (1,1);
        // then downsample ×2 → (0,0), (0,1), (1,0), (0,0); sensor 2 × 2.
        let pipeline = SpatialCrop(x: 1, y: 0, width: 4, height: 3).then(Downsample(factor: 2))
        let out = pipeline(sample)
        XCTAssertEqual(out.x, [0, 0, 1, 0]); XCTAssertEqual(out.y, [0, 1, 0, 0])
        XCTAssertEqual(out.sensor, SensorSize(width: 2, height: 2))
        XCTAssertEqual(DVSPipeline([SpatialCrop(x: 1, y: 0, width: 4, height: 3), Downsample(factor: 2)])(sample), out)
        XCTAssertEqual(pipeline.then(MergePolarity()).stages.count, 3)
        let c: CochleaPipeline = TimeWindow(startMicroseconds: 0, endMicroseconds: 10).then(TimeWindow(startMicroseconds: 5, endMicroseconds: 20))
        XCTAssertEqual(c(CochleaEvents(channelCount: 2, t: [0, 5, 9, 12], channel: [0, 1, 0, 1])).t, [5, 9])
    }
}
