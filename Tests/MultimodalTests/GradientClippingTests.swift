import XCTest
@testable import Multimodal

final class GradientClippingTests: XCTestCase {
    /// Hand-worked: gradients (3) and (4, 0) have global norm √(9 + 16) = 5. Clipping to 1
    /// scales every entry by 1/(5 + 1e-6) (PyTorch's epsilon): 3 → 0.6, 4 → 0.8; clipping to
    /// 10 leaves them untouched.
    func testClipsToTheGlobalNormAcrossParameters() {
        let a = Parameter(name: "a", value: Tensor(zeros: [1])), b = Parameter(name: "b", value: Tensor(zeros: [2]))
        a.grad = Tensor(shape: [1], scalars: [3]); b.grad = Tensor(shape: [2], scalars: [4, 0])
        XCTAssertEqual(clipGradientNorm([a, b], maxNorm: 10), 5, accuracy: 1e-6)
        XCTAssertEqual(a.grad.scalars, [3]); XCTAssertEqual(b.grad.scalars, [4, 0])
        XCTAssertEqual(clipGradientNorm([a, b], maxNorm: 1), 5, accuracy: 1e-6)
        XCTAssertEqual(a.grad.scalars[0], 0.6, accuracy: 1e-6)
        XCTAssertEqual(b.grad.scalars[0], 0.8, accuracy: 1e-6)
        XCTAssertEqual(b.grad.scalars[1], 0)
    }
}
