import Foundation
import XCTest
@testable import EventIO
import SpikeTensor

/// Prints decode + framing time of one MNIST-DVS recording (no assertion on time: a
/// measurement, not a test of the machine). Median of 50 runs after one warm-up.
final class SpeedTests: XCTestCase {
    func testPrintDecodeAndFramingTime() throws {
        let url = try sharedData("mnist-dvs").appendingPathComponent("mnist_0_scale04_0001.aedat")
        let bytes = [UInt8](try Data(contentsOf: url))
        let full = DVSFraming(timesteps: 64)
        let paper = CentroidCrop(width: 56, height: 56).then(Downsample(factor: 2))
        func median(_ body: () throws -> Float) rethrows -> (Double, Float) {
            var times: [Double] = [], check: Float = 0
            for run in 0..<51 {
                let start = DispatchTime.now().uptimeNanoseconds
                check += try body()
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3
                if run > 0 { times.append(elapsed) }
            }
            return (times.sorted()[times.count / 2], check)
        }
        let (decode, n) = try median { Float(try AEDAT.decode(bytes, source: "bench").count) }
        let (read, _) = try median { Float(try AEDAT.read(url).count) }
        let (framed, s1) = try median { full(try AEDAT.decode(bytes, source: "bench")).scalars[0] }
        let (small, s2) = try median { full(paper(try AEDAT.decode(bytes, source: "bench"))).scalars[0] }
        // Stage by stage, on the decoded events.
        let events = try AEDAT.decode(bytes, source: "bench")
        let cropped = paper(events)
        let (crop, c1) = median { Float(CentroidCrop(width: 56, height: 56)(events).count) }
        let (down, c2) = median { Float(Downsample(factor: 2)(events).count) }
        let (frame128, c3) = median { full(events).scalars[0] }
        let (frame28, c4) = median { full(cropped).scalars[0] }
        let (zeros, c5) = median { Tensor(zeros: [64, 2, 128, 128]).scalars[0] }
        _ = (c1, c2, c3, c4, c5)
        print(String(format: "EventIO stages (median of 50, µs): CentroidCrop(56) %.1f, Downsample(2) %.1f, DVSFraming(T=64) 128×128 %.1f, 28×28 %.1f, Tensor(zeros: [64,2,128,128]) alone %.1f",
                     crop, down, frame128, frame28, zeros))
        XCTAssertEqual(n, 51 * 15_744)
        _ = (s1, s2)
        print(String(format: "EventIO speed (median of 50, µs): AEDAT.decode %.1f, AEDAT.read (file) %.1f, decode+DVSFraming(T=64) [64,2,128,128] %.1f, decode+CentroidCrop(56)+Downsample(2)+DVSFraming(T=64) [64,2,28,28] %.1f",
                     decode, read, framed, small))
    }
}
