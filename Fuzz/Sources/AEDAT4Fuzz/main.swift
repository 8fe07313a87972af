import CFuzzerDriver
import Foundation
import EventIO
import SpikeTensor

/// libFuzzer entry point: decode arbitrary bytes as AEDAT 4.0 (IOHeader and packet
/// FlatBuffers, LZ4 and Zstd frames, the infoNode XML), with default and lenient options.
/// Any outcome but a crash (events or a typed EventIOError) is fine.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAEDAT4(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    if let events = try? AEDAT4.decode(bytes, source: "fuzz") {
        precondition(events.x.indices.allSatisfy { Int(events.x[$0]) < events.sensor.width && Int(events.y[$0]) < events.sensor.height },
                     "pixel outside the sensor")
        precondition(zip(events.t, events.t.dropFirst()).allSatisfy { $0 <= $1 }, "times not in order")
        _ = DVSFraming(timesteps: 4, value: .count)(Downsample(factor: 8)(events))
    }
    let lenient = AEDAT31ReadOptions(sensor: SensorSize(width: 40, height: 30), invalidAddresses: .skip,
                                     backwardTimestamps: .clamp)
    if let events = try? AEDAT4.decode(bytes, source: "fuzz", options: lenient) {
        precondition(events.x.allSatisfy { $0 < 40 } && events.y.allSatisfy { $0 < 30 }, "pixel outside the sensor")
    }
    return 0
}

// Hand the command line to libFuzzer (-max_total_time=…, corpus folders …).
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzAEDAT4(data, size) })
