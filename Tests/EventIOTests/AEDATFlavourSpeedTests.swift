import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

/// Prints the decode speed of AEDAT 3.1, CIFAR10-DVS and AEDAT 4.0 against AEDAT 2.0 on the same
/// 1,000,000 random DVS128 events in memory (median of 11 runs after one warm-up; a
/// measurement, not a test of the machine: only the event counts are asserted).
final class AEDATFlavourSpeedTests: XCTestCase {
    func testPrintEventsPerSecondAgainstAEDAT2() throws {
        var g = SeededGenerator(seed: 2)
        let events = randomDVSEvents(&g, count: 1_000_000, maxGap: 20)
        let v2 = AEDAT.encode(events), v31 = AEDAT31.encode(events)
        func median(_ body: () throws -> Int) rethrows -> Double {
            var times: [Double] = []
            for run in 0..<12 {
                let start = DispatchTime.now().uptimeNanoseconds
                XCTAssertEqual(try body(), events.count)
                if run > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
            }
            return times.sorted()[times.count / 2]
        }
        let t2 = try median { try AEDAT.decode(v2, source: "bench").count }
        let t31 = try median { try AEDAT31.decode(v31, source: "bench").count }
        let tc = try median { try CIFAR10DVS.decode(v2, source: "bench").count }
        let v4 = aedat4Encode(events)
        let t4 = try median { try AEDAT4.decode(v4, source: "bench").count }
        let m = 1e-6 * Double(events.count)
        print(String(format: "decode speed, 1e6 events in memory (median of 11): AEDAT 2.0 %.1f M events/s, AEDAT 3.1 %.1f M events/s, CIFAR10-DVS %.1f M events/s, AEDAT 4.0 (uncompressed) %.1f M events/s",
                     m / t2, m / t31, m / tc, m / t4))
    }
}
