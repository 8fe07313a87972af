import XCTest
@testable import SpikeTensor

final class SpikeTensorSmokeTests: XCTestCase {
    func testModuleLoads() {
        var g = SeededGenerator(seed: 1)
        XCTAssertNotEqual(g.next(), g.next())
    }
}
