import CFuzzerDriver
import Foundation
import EventIO
import SpikeTensor

/// libFuzzer entry point: decode arbitrary bytes as AEDAT 2.0 with default and lenient
/// options. Any outcome but a crash (events or a typed EventIOError) is fine.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAEDAT(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    if let events = try? AEDAT.decode(bytes, source: "fuzz") {
        // Whatever decodes must re-encode and decode to the same events.
        precondition(AEDAT.encodingProblem(events) == nil, "decoded events are not encodable")
        let again = try? AEDAT.decode(AEDAT.encode(events), source: "fuzz-reencoded")
        precondition(again == events, "AEDAT round trip changed the events")
        _ = DVSFraming(timesteps: 8, value: .count)(events)
    }
    let lenient = AEDATReadOptions(sensor: SensorSize(width: 100, height: 90), flipX: false,
                                   invalidAddresses: .skip, backwardTimestamps: .clamp)
    if let events = try? AEDAT.decode(bytes, source: "fuzz", options: lenient) {
        _ = CentroidCrop(width: 28, height: 28).then(BackgroundActivityFilter(timeWindowMicroseconds: 1000))(events)
    }
    return 0
}

// Hand the command line to libFuzzer (-max_total_time=…, corpus folders …).
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzAEDAT(data, size) })
