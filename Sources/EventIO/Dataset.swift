import SpikeTensor

/// The interface between data and models: a split of paired audiovisual samples.
///
/// A sample is already framed (the paper's *Input* layer): the visual part is
/// `[T, P, H, W]` (P polarity channels, 2 = ON/OFF or 1 = merged), the audio part is
/// `[T, C]` (C cochlea channels, 64 for N-TIDIGITS), values 0/1 (binary framing) or
/// event counts. Models batch samples into the time-major layout `[T, B, …]`.

/// Which half of a dataset.
public enum Split: String, Sendable, CaseIterable, Codable {
    case train, test
}

/// One paired sample: what the DVS saw, what the cochlea heard, and the class.
public struct AudioVisualSample: Sendable {
    /// `[T, P, H, W]` framed DVS events.
    public var visual: Tensor
    /// `[T, C]` framed cochlea events.
    public var audio: Tensor
    /// Class index in 0..<classCount (digit 0 = "zero", 1…9 = digits).
    public var label: Int

    public init(visual: Tensor, audio: Tensor, label: Int) {
        self.visual = visual; self.audio = audio; self.label = label
    }
}

/// A split of an audiovisual dataset, indexable and deterministic.
public protocol AudioVisualDataset: Sendable {
    /// Number of paired samples.
    var count: Int { get }
    /// Number of classes (10 for the paper's joint digit dataset).
    var classCount: Int { get }
    /// `[T, P, H, W]` of every visual sample.
    var visualShape: [Int] { get }
    /// `[T, C]` of every audio sample.
    var audioShape: [Int] { get }
    /// The class of sample `index`, without framing it (for stratification and reports).
    func label(_ index: Int) -> Int
    /// Sample `index` (0..<count), framed.
    func sample(_ index: Int) throws -> AudioVisualSample
    /// Sample `index` written into row `row` of time-major batch buffers of `batch` samples,
    /// `visual` `[T, batch, P, H, W]` and `audio` `[T, batch, C]` (zeroed by the caller); returns
    /// its label. The default goes through `sample`; a dataset of cached frames decodes them
    /// into place (`FrameStore.decode`).
    func write(_ index: Int, row: Int, of batch: Int, visual: UnsafeMutablePointer<Float>,
               audio: UnsafeMutablePointer<Float>) throws -> Int
}

extension AudioVisualDataset {
    public func write(_ index: Int, row: Int, of batch: Int, visual: UnsafeMutablePointer<Float>,
                      audio: UnsafeMutablePointer<Float>) throws -> Int {
        let s = try sample(index)
        guard s.visual.shape == visualShape, s.audio.shape == audioShape else {
            throw DatasetError.badConfiguration("sample \(index) has shapes \(s.visual.shape) and \(s.audio.shape), "
                                                + "the dataset declares \(visualShape) and \(audioShape)")
        }
        for (tensor, out) in [(s.visual, visual), (s.audio, audio)] {
            let steps = tensor.shape[0], frame = tensor.count / max(steps, 1)
            tensor.withPointer { src in
                for t in 0..<steps { (out + (t * batch + row) * frame).update(from: src + t * frame, count: frame) }
            }
        }
        return s.label
    }
}
