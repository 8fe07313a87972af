import XCTest
@testable import SpikeTensor

/// Random Floats uniform in [lower, upper) from a seeded generator.
func randomArray(_ count: Int, _ rng: inout SeededGenerator, _ lower: Float = -1, _ upper: Float = 1) -> [Float] {
    (0..<count).map { _ in rng.nextUniform(lower, upper) }
}

/// Asserts |a − b| ≤ tolerance·max(1, |b|) elementwise (NaN anywhere fails) and reports the largest difference.
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
