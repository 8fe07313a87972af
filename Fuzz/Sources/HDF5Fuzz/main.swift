import CFuzzerDriver
import Foundation
import EventIO
import SpikeTensor

/// libFuzzer entry point: arbitrary bytes as an N-TIDIGITS HDF5 file, written to a temporary
/// path (libhdf5 reads files, not buffers), opened and every sample of both splits read.
/// A crash of libhdf5 itself happens in `NTidigitsFile.open`'s child process and comes back
/// as an error; what this harness catches is any crash in this process.
// A file that makes libhdf5 loop is killed after 5 s (and becomes an error), not 60.
setenv("SPIKEFUSE_HDF5_CHECK_SECONDS", "5", 1)
let path = FileManager.default.temporaryDirectory.appendingPathComponent("hdf5fuzz-\(getpid()).hdf5")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHDF5(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 && data != nil ? Data(bytes: data!, count: size) : Data()
    guard (try? bytes.write(to: path)) != nil else { return 0 }
    if let file = try? NTidigitsFile.open(path) {
        for split in Split.allCases {
            for key in file.keys(split) { _ = try? file.events(key: key, split: split) }
        }
    }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzHDF5(data, size) })
