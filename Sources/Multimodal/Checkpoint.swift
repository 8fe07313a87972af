import Foundation

/// A training checkpoint: weights (PyTorch names), Adam state, epoch and the shuffling
/// generator's state, in one safetensors file written atomically.
///
/// Tensors: every parameter by name (e.g. `visual.conv1.weight`), then `adam.m.<name>`,
/// `adam.v.<name>`. Metadata: `format` = `spikefuse-checkpoint-1`, `config` (model JSON),
/// `epoch`, `adam_step`, `rng_state` (four decimal UInt64). PyTorch reads the file with
/// `safetensors.torch.load_file` and can load the parameters with `strict=False`.
public struct Checkpoint {
    public static let format = "spikefuse-checkpoint-1"
    public var configuration: ModelConfiguration
    public var epoch: Int
    public var tensors: [String: Tensor]
    public var adamStep: Int
    public var rngState: (UInt64, UInt64, UInt64, UInt64)

    /// Writes network + optimiser + generator state to `url` atomically.
    public static func write(network: MultimodalNetwork, optimiser: Adam, epoch: Int,
                             rng: SeededGenerator, to url: URL) throws {
        let s = rng.state
        let metadata = [
            "format": format,
            "config": network.configuration.jsonString(),
            "epoch": String(epoch),
            "adam_step": String(optimiser.stepCount),
            "rng_state": "\(s.0) \(s.1) \(s.2) \(s.3)",
        ]
        try SafeTensors.write(network.namedTensors() + optimiser.stateTensors(), metadata: metadata, to: url)
    }

    /// Reads a checkpoint (or a plain weights file: then epoch 0 and no optimiser state).
    public static func read(_ url: URL) throws -> Checkpoint {
        let file = try SafeTensors.read(url)
        guard let configText = file.metadata["config"] else {
            throw CheckpointError.invalid(url.path, "no 'config' metadata (not a SpikeFuse checkpoint or weights file)")
        }
        let configuration: ModelConfiguration
        do { configuration = try ModelConfiguration.fromJSON(configText) } catch {
            throw CheckpointError.invalid(url.path, "its 'config' metadata: \(error)")
        }
        let epoch = Int(file.metadata["epoch"] ?? "0") ?? 0
        let step = Int(file.metadata["adam_step"] ?? "0") ?? 0
        var state: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        if let text = file.metadata["rng_state"] {
            let parts = text.split(separator: " ").compactMap { UInt64($0) }
            guard parts.count == 4 else { throw CheckpointError.invalid(url.path, "rng_state '\(text)' is not four integers") }
            state = (parts[0], parts[1], parts[2], parts[3])
        }
        return Checkpoint(configuration: configuration, epoch: epoch, tensors: file.tensors,
                          adamStep: step, rngState: state)
    }
}

public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case invalid(String, String)
    case noCheckpoint(String)
    case mismatch(String, String)
    public var description: String {
        switch self {
        case let .invalid(path, why): return "\(path): \(why)"
        case let .noCheckpoint(dir): return "\(dir): no checkpoint to resume from (checkpoints/epoch-*.safetensors)"
        case let .mismatch(path, why): return "\(path): cannot resume: \(why)"
        }
    }
}
