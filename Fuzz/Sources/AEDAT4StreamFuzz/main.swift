import CFuzzerDriver
import Foundation
import EventIO
import SpikeTensor

/// libFuzzer entry point: decode arbitrary bytes as an AEDAT 4.0 network stream, fed in
/// pieces whose sizes the input's first byte picks (the incremental decoder must give the
/// same events for any split: all at once is the reference). Any outcome but a crash (events
/// or a typed EventIOError) is fine.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAEDAT4Stream(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let all = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    guard let split = all.first else { return 0 }
    let bytes = Array(all.dropFirst())
    let piece = 1 + Int(split) * 7
    var whole = AEDAT4StreamDecoder(source: "fuzz")
    let reference: [DVSEvents]? = try? [whole.feed(bytes)]
    var pieces = AEDAT4StreamDecoder(source: "fuzz")
    var events: [DVSEvents] = []
    do {
        var start = 0
        while start < bytes.count {
            let e = try pieces.feed(bytes[start..<min(start + piece, bytes.count)])
            if !e.isEmpty { events.append(e) }
            start += piece
        }
    } catch let e as EventIOError {
        precondition(e.file == "fuzz", "error names another source")
        precondition(reference == nil, "a split fails where the whole decodes")
        return 0
    } catch { preconditionFailure("untyped error \(error)") }
    if let reference {
        let t = events.flatMap(\.t), x = events.flatMap(\.x), y = events.flatMap(\.y), p = events.flatMap(\.polarity)
        precondition(t == reference[0].t && x == reference[0].x && y == reference[0].y && p == reference[0].polarity,
                     "a split changes the events")
        if let sensor = pieces.sensor {
            precondition(x.allSatisfy { Int($0) < sensor.width }, "pixel outside the sensor")
        }
        precondition(zip(t, t.dropFirst()).allSatisfy { $0 <= $1 }, "times not in order")
    }
    return 0
}

// Hand the command line to libFuzzer (-max_total_time=…, corpus folders …).
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzAEDAT4Stream(data, size) })
