import XCTest
@testable import SpikeTensor

final class AvgPool2dKernelTests: XCTestCase {
    /// Fast pooling vs the reference loops, including odd sizes (last row/column dropped).
    func testPoolingMatchesReference() {
        var rng = SeededGenerator(seed: 9)
        for (h, w, k) in [(4, 4, 2), (5, 7, 2), (6, 9, 3), (28, 28, 2)] {
            let planes = 3
            let x = randomArray(planes * h * w, &rng)
            var y = [Float](repeating: .nan, count: planes * (h / k) * (w / k))
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    AvgPool2dKernel.forward(input: xp.baseAddress!, planes: planes, height: h, width: w, kernelSize: k,
                                            output: yp.baseAddress!)
                }
            }
            assertClose(y, AvgPool2dKernel.referenceForward(x, planes: planes, height: h, width: w, kernelSize: k),
                        tolerance: 1e-6, "forward \(h)x\(w) k\(k)")
            let dy = randomArray(y.count, &rng)
            var dx = [Float](repeating: .nan, count: x.count)
            dy.withUnsafeBufferPointer { dyp in
                dx.withUnsafeMutableBufferPointer { dxp in
                    AvgPool2dKernel.backward(gradOutput: dyp.baseAddress!, planes: planes, height: h, width: w,
                                             kernelSize: k, gradInput: dxp.baseAddress!)
                }
            }
            assertClose(dx, AvgPool2dKernel.referenceBackward(dy, planes: planes, height: h, width: w, kernelSize: k),
                        tolerance: 1e-6, "backward \(h)x\(w) k\(k)")
        }
    }

    /// Hand example: [[1, 2], [3, 6]] pools to (1 + 2 + 3 + 6)/4 = 3.
    func testHandExample() {
        XCTAssertEqual(AvgPool2dKernel.referenceForward([1, 2, 3, 6], planes: 1, height: 2, width: 2, kernelSize: 2), [3])
    }

    /// Finite differences of L = Σ r ⊙ pool(x) vs the backward (pooling is linear).
    func testPoolingBackwardMatchesFiniteDifferences() {
        var rng = SeededGenerator(seed: 10)
        let (h, w, k, planes) = (5, 4, 2, 2)
        let x = randomArray(planes * h * w, &rng)
        let r = randomArray(planes * (h / k) * (w / k), &rng)
        func loss(_ x: [Float]) -> Double {
            var y = [Float](repeating: 0, count: r.count)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    AvgPool2dKernel.forward(input: xp.baseAddress!, planes: planes, height: h, width: w, kernelSize: k,
                                            output: yp.baseAddress!)
                }
            }
            return zip(y, r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        var dx = [Float](repeating: 0, count: x.count)
        r.withUnsafeBufferPointer { rp in
            dx.withUnsafeMutableBufferPointer { dxp in
                AvgPool2dKernel.backward(gradOutput: rp.baseAddress!, planes: planes, height: h, width: w, kernelSize: k,
                                         gradInput: dxp.baseAddress!)
            }
        }
        let eps: Float = 1e-2
        for i in 0..<x.count {
            var plus = x, minus = x
            plus[i] += eps; minus[i] -= eps
            XCTAssertEqual(dx[i], Float((loss(plus) - loss(minus)) / Double(2 * eps)), accuracy: 1e-4, "dx[\(i)]")
        }
    }
}
