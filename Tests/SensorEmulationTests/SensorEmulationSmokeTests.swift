import XCTest
@testable import SensorEmulation

final class SensorEmulationSmokeTests: XCTestCase {
    func testModuleLoads() {
        var g = SeededGenerator(seed: 1)
        XCTAssertNotEqual(g.next(), g.next())
    }
}
