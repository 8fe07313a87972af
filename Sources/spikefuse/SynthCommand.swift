import Foundation
import Multimodal

enum SynthCommand {
    static let help = """
    usage: spikefuse synth --out DIR [--pairs N] [--seed S] [--images IDX[,IDX…]] [--labels IDX[,IDX…]]
                           [--audio WAV_FOLDER] [--corrupt P [--corrupt-split all|train|test]]

    Makes an audiovisual digit dataset with the sensor emulators and writes it in the layouts of
    the real datasets, so the same loaders read it: DIR/grabbed_data{d}/scale4/*.aedat (DVS128,
    the MNIST-DVS protocol: a digit moving on a monitor) and DIR/n-tidigits.hdf5 (a 64-channel
    cochlea), plus DIR/manifest.json. Deterministic from the seed; uses both cores.

      --pairs N        audiovisual pairs (1000); pair i has digit i mod 10
      --images IDX     real MNIST images instead of procedural handwriting (gzip or plain IDX);
                       --labels defaults to the matching …labels-idx1… file
      --audio FOLDER   real recordings {digit}_{speaker}_{index}.wav (e.g. FSDD) instead of
                       formant-synthesised speech
      --corrupt P      degrade one randomly chosen modality in a fraction P of the pairs
                       (DVS noise burst or occlusion; low SNR or cochlea noise burst);
                       manifest.json records which, for `spikefuse evaluate --manifest`
      --corrupt-split  which pairs may be corrupted: all (default), or only the test split
                       (sensors failing after training on clean data) or only the training split
    """

    static func run(_ args: [String]) throws {
        var a = Arguments(args)
        if a.wantsHelp { print(help); return }
        guard let out = try a.string("out") else { throw UsageError("synth needs --out DIR") }
        let pairs = try a.int("pairs") ?? 1000
        let seed = try a.uint64("seed") ?? 1
        let images = try a.string("images"), labels = try a.string("labels")
        let audio = try a.string("audio")
        let corrupt = try a.double("corrupt") ?? 0
        let corruptSplit = try a.string("corrupt-split") ?? "all"
        try a.finish()
        let splits: Set<Split>
        switch corruptSplit {
        case "all": splits = [.train, .test]
        case "train": splits = [.train]
        case "test": splits = [.test]
        default: throw UsageError("--corrupt-split must be all, train or test, got '\(corruptSplit)'")
        }
        guard pairs >= 10 else { throw UsageError("--pairs must be at least 10 (one per digit)") }
        guard (0...1).contains(corrupt) else { throw UsageError("--corrupt must be in 0…1") }
        var sources = DatasetSynthesis.Sources()
        if let images {
            let imageURLs = images.split(separator: ",").map { URL(fileURLWithPath: String($0)) }
            let labelURLs: [URL] = try labels.map { $0.split(separator: ",").map { URL(fileURLWithPath: String($0)) } }
                ?? imageURLs.map { url in
                    guard let l = DatasetSynthesis.labelFile(forImages: url) else {
                        throw UsageError("\(url.path): give --labels (no …labels-idx1… name to derive)")
                    }
                    return l
                }
            guard labelURLs.count == imageURLs.count else { throw UsageError("--images and --labels list different numbers of files") }
            sources.images = Array(zip(imageURLs, labelURLs))
        }
        if let audio { sources.audioFolder = URL(fileURLWithPath: audio) }
        try synthesize(pairs: pairs, seed: seed, sources: sources, corrupt: corrupt, corruptSplits: splits,
                       to: URL(fileURLWithPath: out))
    }

    /// Synthesises with a progress line; prints what was written.
    static func synthesize(pairs: Int, seed: UInt64, sources: DatasetSynthesis.Sources, corrupt: Double,
                           corruptSplits: Set<Split> = [.train, .test], to out: URL) throws {
        let status = StatusLine()
        let start = Date()
        try DatasetSynthesis.write(pairs: pairs, seed: seed, sources: sources, corruptFraction: corrupt,
                                        corruptSplits: corruptSplits, to: out) { done, total in
            let rate = Double(done) / max(Date().timeIntervalSince(start), 1e-9)
            status.update(String(format: "synthesising %d/%d pairs  %.0f pairs/s", done, total, rate), force: done == total)
        }
        status.finish()
        print(String(format: "wrote %d pairs to %@ in %.1f s (grabbed_data*/scale4/*.aedat, n-tidigits.hdf5, manifest.json)",
                     pairs, out.path, Date().timeIntervalSince(start)))
    }
}
