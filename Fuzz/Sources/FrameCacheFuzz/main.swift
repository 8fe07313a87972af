import CFuzzerDriver
import Foundation
import EventIO
import SpikeTensor

/// libFuzzer entry point: arbitrary bytes as a frame cache file (`FrameStore`), opened as a
/// cache hit would be and every record decoded. A seed (a valid cache of 3 samples of
/// shape [2, 4]) is written into the corpus folder when it is empty. Since the per-record
/// checksums (issue 40), a file that opens as a hit must hold exactly the true frames, all
/// valid: anything else passing the checksums is a finding.
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cachefuzz-\(getpid())")
let spec = FrameStore.CacheSpec(directory: folder, name: "fuzz", key: "k")
let shape = [2, 4], count = 3
/// The frames the cache should hold: sample i is i mod 2 everywhere.
@Sendable func truth(_ i: Int) -> Tensor { Tensor(repeating: Float(i % 2), shape: shape) }

func openCache() {
    // A stale or missing file is rebuilt from these frames; a corrupt one must be an error.
    guard let (store, _) = try? FrameStore.load(count: count, shape: shape, preferred: .bits, cache: spec, label: "fuzz",
                                                progress: false, policy: .skip,
                                                frame: truth) else { return }
    for i in 0..<count where store.valid[i] { _ = store.tensor(i) }
    if store.origin == .cacheHit {
        for i in 0..<count {
            precondition(store.valid[i] && store.tensor(i) == truth(i), "a damaged cache file passed its checksums (sample \(i))")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameCache(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let bytes = size > 0 && data != nil ? Data(bytes: data!, count: size) : Data()
    guard (try? bytes.write(to: FrameStore.cacheFile(directory: folder, name: spec.name, key: spec.key))) != nil else { return 0 }
    openCache()
    return 0
}

// Seed the corpus (first folder argument) with a valid cache file.
if let corpus = CommandLine.arguments.dropFirst().first(where: { !$0.hasPrefix("-") }),
   ((try? FileManager.default.contentsOfDirectory(atPath: corpus)) ?? []).isEmpty {
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    openCache()
    let built = FrameStore.cacheFile(directory: folder, name: spec.name, key: spec.key)
    try? FileManager.default.copyItem(at: built, to: URL(fileURLWithPath: corpus).appendingPathComponent("seed-valid"))
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzFrameCache(data, size) })
