import SpikeTensor

/// One SHD or SSC file as a dataset of its own, with every class kept: SHD's 20 (digits in
/// English and German) or SSC's 35 (words), the label as stored (no folding to 10 digits as
/// the joint dataset does). Audio only: `audio` is the sample's spikes framed to `[T, 700]`
/// by `framing`, `visual` a `[T, 1, 1, 1]` zero tensor. Samples are read and framed on
/// demand (no cache); errors are the reader's, naming the file and sample.
///
/// The training command does not take it yet (its data sources are the joint and synthetic
/// sets); this is the data side of SHD-20 / SSC-35 training.
public struct SHDClassDataset: AudioVisualDataset {
    public let file: SHDFile
    public let framing: CochleaFraming

    public init(file: SHDFile, framing: CochleaFraming) {
        self.file = file; self.framing = framing
    }

    public var count: Int { file.count }
    /// `file.classes`: 20 for SHD, 35 for SSC (the count of `extra/keys`).
    public var classCount: Int { file.classes }
    /// The name of each class (`extra/keys`; empty when the file has none).
    public var classNames: [String] { file.classNames }
    public var visualShape: [Int] { [framing.timesteps, 1, 1, 1] }
    public var audioShape: [Int] { [framing.timesteps, SHDFile.channelCount] }
    public func label(_ index: Int) -> Int { file.labels[index] }

    public func sample(_ index: Int) throws -> AudioVisualSample {
        guard index >= 0, index < count else {
            throw DatasetError.badConfiguration("\(file.url.path): sample \(index) out of 0..<\(count)")
        }
        return AudioVisualSample(visual: Tensor(zeros: visualShape), audio: framing(try file.events(index)),
                                 label: file.labels[index])
    }
}
