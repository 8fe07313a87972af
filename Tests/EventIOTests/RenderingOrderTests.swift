import XCTest
@testable import EventIO
import SpikeTensor

/// `render` takes every registry format, and N-MNIST keeps file order, which need not be time
/// order: an event earlier than the first one once indexed a slice before the first (a trap).
final class RenderingOrderTests: XCTestCase {
    func testEventsBeforeTheFirstOneLandInTheFirstSlice() {
        let events = DVSEvents(sensor: NMNIST.sensor, t: [500, 100, 900], x: [1, 2, 3], y: [1, 2, 3], polarity: [1, 0, 1])
        let canvas = EventRenderer.dvs(events, slices: 4, pixelScale: 1)
        XCTAssertGreaterThan(canvas.width, 4 * 34)
        XCTAssertEqual(canvas.rgb.count, canvas.width * canvas.height * 3)
    }
}
