import XCTest
@testable import Multimodal

final class MultimodalSmokeTests: XCTestCase {
    func testModuleLoads() {
        var g = SeededGenerator(seed: 1)
        XCTAssertNotEqual(g.next(), g.next())
    }
}
