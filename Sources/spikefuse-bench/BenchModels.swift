import Multimodal

/// The paper's unimodal networks as used by the benchmark: the branches of the shipped
/// descriptions (Sources/Multimodal/Networks/paper-visual.json, paper-audio.json), built by
/// `NetworkBuilder` alone so the benchmark measures the engine without the trainer.
enum BenchModel: String, CaseIterable {
    case visual, auditory

    /// Visual: conv 2→32 3×3 pad 1 + LIF → avg-pool 2 → conv 32→32 + LIF → avg-pool 2 → flatten
    /// 1568 → 128 + LIF → 10 + LIF, τ = 0.2. Auditory: recurrent 64→512→512→512→10, τ = 0.1.
    func makeNetwork(seed: UInt64) -> Sequential {
        var rng = SeededGenerator(seed: seed)
        do {
            let d = try PaperNetworks.shipped(self == .visual ? .visual : .audio)
            return try NetworkBuilder.build(d.branches[0], classes: d.classes, rng: &rng).0
        } catch {
            fatalError("the shipped paper network does not build: \(error)")
        }
    }

    /// One sample's shape without [T, B]: visual [2, 28, 28], auditory [64].
    var sampleShape: [Int] { self == .visual ? [2, 28, 28] : [64] }
}
