import Foundation
import Multimodal

/// A trained network named on the command line: a run directory (its `weights.safetensors`)
/// or a weights/checkpoint file, loaded with the model configuration it carries.
struct TrainedNetwork {
    /// The run directory, when the target was one.
    let run: RunDirectory?
    let weightsURL: URL
    let checkpoint: Checkpoint
    let network: MultimodalNetwork

    /// Opens `target`; a missing path is a usage error naming it, a bad file names the file.
    init(_ target: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory) else {
            throw UsageError("\(target): no such file or directory")
        }
        run = isDirectory.boolValue ? RunDirectory(URL(fileURLWithPath: target)) : nil
        weightsURL = run?.weightsURL ?? URL(fileURLWithPath: target)
        checkpoint = try Checkpoint.read(weightsURL)
        network = try MultimodalNetwork(checkpoint.configuration, seed: 0)
        try network.load(checkpoint.tensors, source: weightsURL.path)
    }
}
