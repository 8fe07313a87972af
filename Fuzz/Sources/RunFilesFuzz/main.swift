import CFuzzerDriver
import Foundation
import Multimodal

/// libFuzzer entry point: arbitrary bytes as a run directory's config.json (model, training
/// and data source) and as its metrics.jsonl, read as `evaluate` and `--resume` read them.
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("runfuzz-\(getpid())")
try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
let run = RunDirectory(folder)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRunFiles(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 && data != nil ? Data(bytes: data!, count: size) : Data()
    guard (try? bytes.write(to: run.configURL)) != nil else { return 0 }
    _ = try? run.readConfiguration()
    _ = try? run.readDataSource()
    _ = try? readMetricsLines(String(decoding: bytes, as: UTF8.self), source: "fuzz")
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzRunFiles(data, size) })
