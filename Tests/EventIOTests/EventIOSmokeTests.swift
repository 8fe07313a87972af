import XCTest
@testable import EventIO
import SpikeTensor

final class EventIOSmokeTests: XCTestCase {
    func testModuleLoads() {
        var g = SeededGenerator(seed: 1)
        XCTAssertNotEqual(g.next(), g.next())
    }
}
