import CFuzzerDriver
import Foundation
import EventIO
import SpikeTensor

/// libFuzzer entry point: decode arbitrary bytes as WAV; any outcome but a crash is fine.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWAV(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    if let w = try? WAV.decode(bytes, source: "fuzz") {
        precondition(w.channels.allSatisfy { $0.count == w.frameCount }, "channels differ in length")
        _ = w.mono
    }
    _ = try? IDX.decodeImages(bytes, source: "fuzz")
    return 0
}

// Hand the command line to libFuzzer (-max_total_time=…, corpus folders …).
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzWAV(data, size) })
