import SpikeTensor

/// What a synaptic layer keeps of its input between a training forward and its backward (the
/// weight gradient needs the input): nothing in inference, the input bit-packed when it is
/// spikes (every element 0 or 1; 1 bit per element, `PackedSpikes`), else the Float32 tensor
/// itself (pooled spikes ¼, ½, …, analog inputs). Packing is exact, so backward gives the same
/// gradients either way; `backward` unpacks into a temporary that lives only for that call.
struct SavedInput {
    private enum Storage { case none, dense(Tensor), packed(PackedSpikes) }
    private var storage = Storage.none

    init() {}

    /// Keeps `input` (packed when `pack` and binary); `keep` false keeps nothing (inference).
    init(_ input: Tensor, keep: Bool, pack: Bool) {
        guard keep else { return }
        if pack, let packed = PackedSpikes(input) { storage = .packed(packed) } else { storage = .dense(input) }
    }

    /// The kept input as a tensor (`[0]`-shaped when nothing is kept).
    func tensor() -> Tensor {
        switch storage {
        case .none: return Tensor(zeros: [0])
        case .dense(let t): return t
        case .packed(let p): return p.unpacked()
        }
    }

    /// Bytes held: 4 per element dense, 1/8 per element packed.
    var byteCount: Int {
        switch storage {
        case .none: return 0
        case .dense(let t): return 4 * t.count
        case .packed(let p): return p.byteCount
        }
    }
}
