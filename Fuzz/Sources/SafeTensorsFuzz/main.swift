import CFuzzerDriver
import Foundation
import Multimodal

/// libFuzzer entry point: arbitrary bytes as a safetensors file (header JSON parser, dtypes,
/// offsets), then its `config` metadata as a model configuration, as `Checkpoint.read` does.
let checkpoint = FileManager.default.temporaryDirectory.appendingPathComponent("stfuzz-\(getpid()).safetensors")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    if let file = try? SafeTensors.decode(bytes, source: "fuzz") {
        for name in file.names { _ = try? file.tensor(named: name) }
        if let config = file.metadata["config"], let c = try? ModelConfiguration.fromJSON(config) {
            _ = try? c.validate()
        }
    }
    // The same bytes as a checkpoint file (epoch, adam_step, rng_state metadata).
    if (try? Data(bytes).write(to: checkpoint)) != nil { _ = try? Checkpoint.read(checkpoint) }
    // The same bytes as a configuration text (config.json's "model", --config).
    _ = try? ModelConfiguration.fromJSON(String(decoding: bytes, as: UTF8.self))
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzSafeTensors(data, size) })
