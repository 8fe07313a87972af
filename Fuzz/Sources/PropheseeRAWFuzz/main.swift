import CFuzzerDriver
import Foundation
import EventIO
import SpikeTensor

/// Checks what the Prophesee decoders promise for any events they return: inside the
/// sensor, times never going back, columns of one length; and the CSV writer on them.
func checkEvents(_ e: DVSEvents) {
    precondition(e.t.count == e.x.count && e.x.count == e.y.count && e.y.count == e.polarity.count, "column lengths differ")
    precondition(e.sensor.width >= 1 && e.sensor.height >= 1, "empty sensor")
    for i in 0..<e.count {
        precondition(Int(e.x[i]) < e.sensor.width && Int(e.y[i]) < e.sensor.height, "event outside the sensor")
        precondition(e.polarity[i] <= 1, "polarity not 0/1")
        if i > 0 { precondition(e.t[i] >= e.t[i - 1], "time went back") }
    }
    _ = EventCSV.encode(e)
}

let headers: [[UInt8]] = ["% format EVT2;height=720;width=1280\n% end\n", "% evt 2.1\n% geometry 640x480\n",
                          "% format EVT21;height=720;width=1280;endianness=legacy\n% end\n", "% evt 3.0\n% geometry 1280x720\n",
                          "% format EVT3\n% end\n"].map { Array($0.utf8) }
let lenient = PropheseeReadOptions(invalidAddresses: .skip, backwardTimestamps: .clamp, undefinedWords: .skip)

/// libFuzzer entry point: the bytes as a whole RAW file (header fuzzed too), then as the body
/// after each fixed header (EVT 2.0, 2.1, 2.1 legacy, 3.0 with and without a size), with
/// the default (strict) and lenient options. Any outcome but a crash is fine.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPropheseeRAW(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    for input in [bytes] + headers.map({ $0 + bytes }) {
        for options in [PropheseeReadOptions(), lenient] {
            if let r = try? PropheseeRAW.decodeRecording(input, source: "fuzz", options: options) { checkEvents(r.events) }
        }
    }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzPropheseeRAW(data, size) })
