import CFuzzerDriver
import Foundation
import EventIO
import SpikeTensor

/// Checks the events a DAT decode returns: inside the sensor, times never going back.
func checkEvents(_ e: DVSEvents) {
    precondition(e.t.count == e.x.count && e.x.count == e.y.count && e.y.count == e.polarity.count, "column lengths differ")
    for i in 0..<e.count {
        precondition(Int(e.x[i]) < e.sensor.width && Int(e.y[i]) < e.sensor.height, "event outside the sensor")
        precondition(e.polarity[i] <= 1, "polarity not 0/1")
        if i > 0 { precondition(e.t[i] >= e.t[i - 1], "time went back") }
    }
}

let headers: [[UInt8]] = [Array("% Version 2\n% Width 304\n% Height 240\n".utf8) + [12, 8],
                          Array("% Version 1\n".utf8) + [0, 8], Array("% Date 2019-01-01\n".utf8)]
let lenient = PropheseeReadOptions(invalidAddresses: .skip, backwardTimestamps: .clamp)

/// libFuzzer entry point: the bytes as a whole DAT file, then after each fixed header, with
/// strict and lenient options. Any outcome but a crash is fine.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPropheseeDAT(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    for input in [bytes] + headers.map({ $0 + bytes }) {
        for options in [PropheseeReadOptions(), lenient] {
            if let r = try? PropheseeDAT.decodeRecording(input, source: "fuzz", options: options) { checkEvents(r.events) }
        }
    }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzPropheseeDAT(data, size) })
