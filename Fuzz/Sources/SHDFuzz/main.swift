import CFuzzerDriver
import Foundation
import EventIO
import SpikeTensor

/// libFuzzer entry point: arbitrary bytes as an SHD/SSC HDF5 file, written to a temporary
/// path (libhdf5 reads files), opened (labels, class names, the bounded heap check) and every
/// sample read and rendered. libhdf5's own crashes happen in `SHDFile.open`'s child process
/// and come back as errors; this harness catches crashes in this process.
setenv("SPIKEFUSE_HDF5_CHECK_SECONDS", "5", 1)   // a looping file is killed after 5 s, not 60
let path = FileManager.default.temporaryDirectory.appendingPathComponent("shdfuzz-\(getpid()).h5")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSHD(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 && data != nil ? Data(bytes: data!, count: size) : Data()
    guard (try? bytes.write(to: path)) != nil else { return 0 }
    if let file = try? SHDFile.open(path) {
        precondition(file.labels.allSatisfy { (0..<file.classes).contains($0) }, "a label outside the classes")
        for i in 0..<min(file.count, 64) {
            guard let events = try? file.events(i) else { continue }
            precondition(events.durationMicroseconds >= 0, "sample times go backwards")
            _ = EventRenderer.cochlea(events, plotWidth: 64, rowHeight: 1)
            _ = EventRenderer.cochleaSVG(events)
        }
    }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzSHD(data, size) })
