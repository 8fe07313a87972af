import XCTest
@testable import SpikeTensor

/// `PackedSpikes`: 1 bit per spike, exact round trip, refuses non-binary tensors.
final class PackedSpikesTests: XCTestCase {
    func testRoundTripIsExactForEveryLengthAroundAWord() {
        var rng = SeededGenerator(seed: 3)
        for count in [0, 1, 63, 64, 65, 130, 1000] {
            let t = Tensor(shape: [count], scalars: (0..<count).map { _ in rng.nextDouble() < 0.3 ? 1 : 0 })
            let packed = PackedSpikes(t)
            XCTAssertNotNil(packed, "count \(count)")
            XCTAssertEqual(packed?.unpacked(), t, "count \(count)")
            XCTAssertEqual(packed?.byteCount, (count + 63) / 64 * 8)
        }
        let shaped = Tensor(shape: [3, 2, 5], scalars: (0..<30).map { Float($0 % 7 == 0 ? 1 : 0) })
        XCTAssertEqual(PackedSpikes(shaped)?.unpacked(), shaped, "the shape is kept")
        var expected: UInt64 = 0
        for i in stride(from: 0, to: 30, by: 7) { expected |= UInt64(1) << UInt64(i) }
        XCTAssertEqual(PackedSpikes(shaped)?.words, [expected], "element i is bit i % 64 of word i / 64")
    }

    func testNonBinaryTensorsAreNotPacked() {
        XCTAssertNil(PackedSpikes(Tensor(shape: [4], scalars: [0, 1, 0.25, 1])), "pooled spikes are not one bit")
        XCTAssertNil(PackedSpikes(Tensor(shape: [70], scalars: [Float](repeating: 0, count: 69) + [2])), "a count of 2 in the last word")
        XCTAssertNil(PackedSpikes(Tensor(shape: [2], scalars: [-1, 0])))
    }

    /// Every C variant packs to the reference's words and unpacks to the same floats, and finds a
    /// non-binary element wherever it is (inside an 8-lane block or in the tail, NaN too).
    func testEveryVariantPacksAsTheReference() {
        var rng = SeededGenerator(seed: 4)
        for count in [1, 7, 8, 9, 63, 64, 65, 200, 1031] {
            let x: [Float] = (0..<count).map { _ in rng.nextDouble() < 0.3 ? 1 : 0 }
            let expected = PackedSpikes.referenceWords(x)!
            for variant in VectorKernels.available {
                var words = [UInt64](repeating: .max, count: expected.count)
                XCTAssertTrue(VectorKernels.packSpikes(x, count: count, into: &words, variant: variant), "\(count) \(variant)")
                XCTAssertEqual(words, expected, "count \(count), \(variant)")
                var back = [Float](repeating: -1, count: count)
                VectorKernels.unpackSpikes(words, count: count, into: &back, variant: variant)
                XCTAssertEqual(back, x, "count \(count), \(variant): unpacked")
                for position in Set([0, count / 2, count - 1]) {
                    for bad: Float in [0.5, 2, -1, .nan] {
                        var y = x
                        y[position] = bad
                        XCTAssertNil(PackedSpikes.referenceWords(y))
                        XCTAssertFalse(VectorKernels.packSpikes(y, count: count, into: &words, variant: variant),
                                       "\(bad) at \(position) of \(count), \(variant)")
                    }
                }
            }
        }
    }
}
