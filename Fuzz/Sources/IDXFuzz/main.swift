import CFuzzerDriver
import Foundation
import EventIO
import SpikeTensor

/// libFuzzer entry point: arbitrary bytes as IDX images and labels, plain or gzip (the
/// inflater runs whenever the bytes start with the gzip magic).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    if let images = try? IDX.decodeImages(bytes, source: "fuzz"), images.count > 0 {
        _ = images.image(images.count - 1)
    }
    _ = try? IDX.decodeLabels(bytes, source: "fuzz")
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzIDX(data, size) })
