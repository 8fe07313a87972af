import CFuzzerDriver
import Foundation
import EventIO
import SpikeTensor

/// libFuzzer entry point: decode arbitrary bytes as AEDAT 3.1 (default and lenient options),
/// as a DVS128 Gesture labels CSV, and as a CIFAR10-DVS recording. Any outcome but a crash
/// (events or a typed error) is fine.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAEDAT31(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    if let events = try? AEDAT31.decode(bytes, source: "fuzz") {
        // Whatever decodes must re-encode and decode to the same events.
        precondition(AEDAT31.encodingProblem(events) == nil, "decoded events are not encodable")
        let again = try? AEDAT31.decode(AEDAT31.encode(events, eventsPerPacket: 97), source: "fuzz-reencoded",
                                        options: .init(sensor: events.sensor))
        precondition(again == events, "AEDAT 3.1 round trip changed the events")
        _ = DVSFraming(timesteps: 4, value: .count)(Downsample(factor: 4)(events))
    }
    let lenient = AEDAT31ReadOptions(sensor: SensorSize(width: 40, height: 30), invalidAddresses: .skip,
                                     backwardTimestamps: .clamp)
    if let events = try? AEDAT31.decode(bytes, source: "fuzz", options: lenient) {
        precondition(events.x.allSatisfy { $0 < 40 } && events.y.allSatisfy { $0 < 30 }, "pixel outside the sensor")
        precondition(zip(events.t, events.t.dropFirst()).allSatisfy { $0 <= $1 }, "times not in order")
    }
    if let windows = try? DVSGestureFolder.windows(csv: bytes, source: "fuzz") {
        precondition(windows.allSatisfy { (0..<11).contains($0.label) && $0.startMicroseconds < $0.endMicroseconds })
    }
    if let events = try? CIFAR10DVS.decode(bytes, source: "fuzz") {
        precondition(events.x.allSatisfy { $0 < 128 } && events.y.allSatisfy { $0 < 128 }, "CIFAR10-DVS pixel outside 128×128")
    }
    return 0
}

// Hand the command line to libFuzzer (-max_total_time=…, corpus folders …).
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzAEDAT31(data, size) })
