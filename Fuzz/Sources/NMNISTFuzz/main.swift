import CFuzzerDriver
import Foundation
import EventIO
import SpikeTensor

/// libFuzzer entry point: arbitrary bytes as an N-MNIST recording (34 × 34) and as an
/// N-Caltech101 one (240 × 180). Whatever decodes must be in time order, re-encode to the
/// same bytes, and render (PNG canvas in slices, SVG) and frame without a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNMNIST(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    for sensor in [NMNIST.sensor, NCaltech101.sensor] {
        guard let events = try? NMNIST.decode(bytes, source: "fuzz", sensor: sensor) else { continue }
        precondition(events.durationMicroseconds >= 0, "decoded events go backwards")
        precondition((try? NMNIST.encode(events, sensor: sensor)) == bytes, "N-MNIST round trip changed the bytes")
        _ = EventRenderer.dvs(events, slices: 3, pixelScale: 1)
        _ = EventRenderer.dvsSVG(events, pixelScale: 1)
        _ = CentroidCrop(width: 28, height: 28)(events)
        _ = DVSFraming(timesteps: 2, value: .count)(events)
    }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzNMNIST(data, size) })
