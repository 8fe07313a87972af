import XCTest
@testable import SpikeTensor

final class MaxPool2dKernelTests: XCTestCase {
    /// The 2×2 fast loop against the any-k reference: outputs bit for bit and the same argmax,
    /// with and without argmax, on spikes (ties everywhere: the first element must win), on
    /// values with ties and negatives, and on odd sizes (last row and column dropped).
    func testTwoByTwoMatchesTheReference() {
        var rng = SeededGenerator(seed: 31)
        for (h, w) in [(4, 4), (5, 7), (32, 32), (3, 2)] {
            let planes = 5
            for kind in ["spikes", "values"] {
                let x: [Float] = (0..<(planes * h * w)).map { _ in
                    kind == "spikes" ? (rng.nextDouble() < 0.3 ? 1 : 0) : Float(Int(rng.nextDouble() * 5) - 2) * 0.5
                }
                let n = planes * (h / 2) * (w / 2)
                var y = [Float](repeating: .nan, count: n), yReference = y, yNoArgmax = y
                var at = [Int32](repeating: -1, count: n), atReference = at
                x.withUnsafeBufferPointer { xp in
                    MaxPool2dKernel.forward2(input: xp.baseAddress!, planes: planes, height: h, width: w, output: &y, argmax: &at)
                    MaxPool2dKernel.forward2(input: xp.baseAddress!, planes: planes, height: h, width: w, output: &yNoArgmax,
                                             argmax: nil)
                    MaxPool2dKernel.forwardReference(input: xp.baseAddress!, planes: planes, height: h, width: w, kernelSize: 2,
                                                     output: &yReference, argmax: &atReference)
                }
                XCTAssertEqual(y.map(\.bitPattern), yReference.map(\.bitPattern), "\(h)×\(w) \(kind): outputs")
                XCTAssertEqual(yNoArgmax.map(\.bitPattern), yReference.map(\.bitPattern), "\(h)×\(w) \(kind): outputs, no argmax")
                XCTAssertEqual(at, atReference, "\(h)×\(w) \(kind): argmax")
            }
        }
    }

    /// Hand-worked windows: ties keep the first element in row-major order.
    func testTiesGoToTheFirstElement() {
        // one plane 2×4: windows [0 1; 1 1] and [0 0; 0 0]
        let x: [Float] = [0, 1, 0, 0,
                          1, 1, 0, 0]
        var y = [Float](repeating: .nan, count: 2), at = [Int32](repeating: -1, count: 2)
        x.withUnsafeBufferPointer { MaxPool2dKernel.forward2(input: $0.baseAddress!, planes: 1, height: 2, width: 4, output: &y, argmax: &at) }
        XCTAssertEqual(y, [1, 0])
        XCTAssertEqual(at, [1, 2])
    }
}
