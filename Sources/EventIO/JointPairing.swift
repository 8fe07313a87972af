import SpikeTensor

/// The paper's split and pairing rules for the joint MNIST-DVS + N-TIDIGITS dataset (§3.1–3.2),
/// as pure functions over labels, so they can be checked without reading any events.
///
/// - Split: per class, the first ⌈n/2⌉ samples of each set in its canonical order are the
///   training samples, the rest the test samples ("the first 50 % samples of each dataset
///   are used for training"). Canonical order: visual by digit then recording index; audio
///   in HDF5 key order, the file's train keys then its test keys. With `.hdf5` the audio
///   split is the file's own train/test split instead, and so is the visual split where the
///   visual set has one (N-MNIST's Train/Test folders; MNIST-DVS has none and stays first-half).
/// - Pairing: within a split, the k-th visual sample of class c (k = 0, 1, …) is paired with
///   audio sample `k mod m_c` of class c, where m_c is that class's audio count in the split.
///   Every visual sample is used once; the audio samples are cycled, so all are used when
///   the class has at least as many visual samples as audio ones (the paper's 10,000 pairs,
///   "4,500 audio samples are repeated").
/// - Order: pairs are listed by class, then by visual canonical order.
public enum JointSplitMode: String, Sendable, Codable, Hashable, CaseIterable {
    /// First 50 % of each set per class for training (the paper's rule).
    case firstHalf
    /// The datasets' own train/test splits: the audio file's, and N-MNIST's folders (MNIST-DVS,
    /// which has none: first 50 %).
    case hdf5
}

/// One pair of the joint dataset: indices into the visual and audio sample lists.
public struct JointPair: Sendable, Hashable {
    public var visual: Int
    public var audio: Int
    public var label: Int
    public init(visual: Int, audio: Int, label: Int) {
        self.visual = visual; self.audio = audio; self.label = label
    }
}

public enum JointPairing {
    /// Number of training samples of a class with `n` samples: ⌈n/2⌉, so a class with a
    /// single sample still appears in training (equals n/2 for the real, even counts).
    public static func trainCount(_ n: Int) -> Int { (n + 1) / 2 }

    /// Indices (into `labels`) that fall in `split` under the first-half rule, in order.
    public static func firstHalf(labels: [Int], split: Split, classCount: Int) -> [Int] {
        var perClass = [[Int]](repeating: [], count: classCount)
        for (i, c) in labels.enumerated() where (0..<classCount).contains(c) { perClass[c].append(i) }
        var chosen: [Int] = []
        for members in perClass {
            let k = trainCount(members.count)
            chosen += split == .train ? members[..<k] : members[k...]
        }
        return chosen.sorted()
    }

    /// The pairs of one split.
    ///
    /// - Parameters:
    ///   - visualLabels: class of each visual sample, in canonical order.
    ///   - audioLabels: class of each audio sample, in canonical order.
    ///   - audioFileSplits: the HDF5 split of each audio sample (used by `.hdf5`).
    ///   - audioSource: names the audio file in errors.
    /// - Throws: `DatasetError.noAudioForClass` when a class has visual samples in the split
    ///   but no audio sample.
    public static func pairs(visualLabels: [Int], audioLabels: [Int], audioFileSplits: [Split],
                             visualFileSplits: [Split]? = nil,
                             mode: JointSplitMode, split: Split, classCount: Int = 10,
                             audioSource: String = "audio") throws -> [JointPair] {
        precondition(audioLabels.count == audioFileSplits.count, "one HDF5 split per audio sample")
        precondition(visualFileSplits.map { $0.count == visualLabels.count } ?? true, "one split per visual sample")
        let visual: [Int]
        if mode == .hdf5, let visualFileSplits {
            visual = visualLabels.indices.filter { visualFileSplits[$0] == split && (0..<classCount).contains(visualLabels[$0]) }
        } else {
            visual = firstHalf(labels: visualLabels, split: split, classCount: classCount)
        }
        let audio: [Int]
        switch mode {
        case .firstHalf:
            audio = firstHalf(labels: audioLabels, split: split, classCount: classCount)
        case .hdf5:
            audio = audioLabels.indices.filter {
                audioFileSplits[$0] == split && (0..<classCount).contains(audioLabels[$0])
            }
        }
        var audioOfClass = [[Int]](repeating: [], count: classCount)
        for a in audio { audioOfClass[audioLabels[a]].append(a) }
        var visualOfClass = [[Int]](repeating: [], count: classCount)
        for v in visual { visualOfClass[visualLabels[v]].append(v) }
        var result: [JointPair] = []
        for c in 0..<classCount where !visualOfClass[c].isEmpty {
            let partners = audioOfClass[c]
            guard !partners.isEmpty else {
                throw DatasetError.noAudioForClass(label: c, split: split, file: audioSource)
            }
            for (k, v) in visualOfClass[c].enumerated() {
                result.append(JointPair(visual: v, audio: partners[k % partners.count], label: c))
            }
        }
        return result
    }
}
