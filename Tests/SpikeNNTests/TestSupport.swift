import XCTest
@testable import SpikeNN
import SpikeTensor

func randomArray(_ count: Int, _ rng: inout SeededGenerator, _ lower: Float = -1, _ upper: Float = 1) -> [Float] {
    (0..<count).map { _ in rng.nextUniform(lower, upper) }
}

func randomTensor(_ shape: [Int], _ rng: inout SeededGenerator, _ lower: Float = -1, _ upper: Float = 1) -> Tensor {
    Tensor(shape: shape, scalars: randomArray(shape.reduce(1, *), &rng, lower, upper))
}

/// Binary spikes with firing probability `rate`.
func randomSpikes(_ shape: [Int], rate: Double, _ rng: inout SeededGenerator) -> Tensor {
    Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.nextDouble() < rate ? 1 : 0 })
}

/// Asserts |a − b| ≤ tolerance·max(1, |b|) elementwise (NaN anywhere fails); reports the largest difference.
func assertClose(_ a: [Float], _ b: [Float], tolerance: Float, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "count " + message, file: file, line: line)
    var worst: Float = 0, worstIndex = -1
    for i in 0..<min(a.count, b.count) {
        // NaN (a slot never written, a 0/0) counts as infinitely far and is never replaced.
        let relative = abs(a[i] - b[i]) / max(1, abs(b[i]))
        let err = relative.isNaN ? Float.infinity : relative
        if err > worst { worst = err; worstIndex = i }
    }
    XCTAssertLessThanOrEqual(worst, tolerance,
                             "\(message): largest relative difference \(worst) at \(worstIndex)", file: file, line: line)
}

/// Σ r ⊙ y in Double: a scalar loss whose gradient w.r.t. y is r.
func projected(_ y: Tensor, _ r: Tensor) -> Double {
    zip(y.scalars, r.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
}

/// Central finite difference of `loss` w.r.t. element `i` of `values`.
func finiteDifference(_ values: Tensor, _ i: Int, eps: Float = 1e-2, _ loss: (Tensor) -> Double) -> Float {
    var plus = values, minus = values
    plus.scalars[i] += eps
    minus.scalars[i] -= eps
    return Float((loss(plus) - loss(minus)) / Double(2 * eps))
}
