import XCTest
@testable import SensorEmulation
import SpikeTensor
import EventIO

final class SensorEmulationSmokeTests: XCTestCase {
    func testModuleLoads() {
        var g = SeededGenerator(seed: 1)
        XCTAssertNotEqual(g.next(), g.next())
    }
}
