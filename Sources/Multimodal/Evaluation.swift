/// Test-set evaluation: accuracy of each head, confusion matrices, attention statistics.

/// Accuracy and confusion of one head.
public struct HeadEvaluation: Codable, Sendable, Equatable {
    /// Correct predictions in %, prediction = most output spikes (ties → lowest class).
    public var accuracy: Double
    /// `confusion[true][predicted]` counts.
    public var confusion: [[Int]]
}

public struct EvaluationResult: Codable, Sendable, Equatable {
    public var samples: Int
    public var visual: HeadEvaluation?
    public var audio: HeadEvaluation?
    public var fusion: HeadEvaluation?
    /// Mean (w_v, w_a) over all samples and timesteps (attention mode only).
    public var attention: [Double]?
    /// Mean (w_v, w_a) per true class (attention mode only).
    public var attentionPerClass: [[Double]]?
    /// Mean loss terms over the set.
    public var loss: [String: Double]

    /// Accuracy of the head that decides (fusion if present).
    public var decisiveAccuracy: Double { (fusion ?? visual ?? audio)?.accuracy ?? 0 }
}

/// Accumulates predictions of one head.
struct HeadTally {
    var confusion: [[Int]]
    init(classes: Int) { confusion = Array(repeating: Array(repeating: 0, count: classes), count: classes) }
    mutating func add(spikes: Tensor, labels: [Int]) {
        for (p, y) in zip(SpikeRateLoss.predictions(spikes), labels) { confusion[y][p] += 1 }
    }
    var result: HeadEvaluation {
        let total = confusion.joined().reduce(0, +)
        let correct = confusion.indices.reduce(0) { $0 + confusion[$1][$1] }
        return HeadEvaluation(accuracy: total == 0 ? 0 : 100 * Double(correct) / Double(total), confusion: confusion)
    }
}

/// Runs the network over a whole dataset (inference only) and tallies every head.
/// `samples` limits evaluation to the first N (nil = all); `perSample` sees each batch.
public func evaluate(_ network: MultimodalNetwork, on dataset: AudioVisualDataset, batchSize: Int,
                     limit: Int? = nil,
                     perBatch: ((Batch, HeadOutputs) -> Void)? = nil) throws -> EvaluationResult {
    let c = network.configuration
    let n = min(dataset.count, limit ?? dataset.count)
    var visual = HeadTally(classes: c.classes), audio = HeadTally(classes: c.classes)
    var fusion = HeadTally(classes: c.classes)
    var attentionSum = [Double](repeating: 0, count: 2)
    var attentionPerClass = Array(repeating: [0.0, 0.0], count: c.classes)
    var attentionCount = [Int](repeating: 0, count: c.classes)
    var lossSum = LossBreakdownSum()
    var start = 0
    while start < n {
        let indices = Array(start..<min(n, start + batchSize))
        let batch = try makeBatch(dataset, indices: indices[...])
        let out = network.forward(visual: c.mode.usesVisual ? batch.visual : nil,
                                  audio: c.mode.usesAudio ? batch.audio : nil)
        if let o = out.visual { visual.add(spikes: o, labels: batch.labels); lossSum.add("visual", o, batch.labels) }
        if let o = out.audio { audio.add(spikes: o, labels: batch.labels); lossSum.add("audio", o, batch.labels) }
        if let o = out.fusion { fusion.add(spikes: o, labels: batch.labels); lossSum.add("fusion", o, batch.labels) }
        if let w = out.attention {
            let t = w.shape[0], b = w.shape[1]
            for j in 0..<b {
                var sv = 0.0, sa = 0.0
                for step in 0..<t {
                    sv += Double(w[flat: (step * b + j) * 2]); sa += Double(w[flat: (step * b + j) * 2 + 1])
                }
                let y = batch.labels[j]
                attentionPerClass[y][0] += sv / Double(t); attentionPerClass[y][1] += sa / Double(t)
                attentionCount[y] += 1
                attentionSum[0] += sv / Double(t); attentionSum[1] += sa / Double(t)
            }
        }
        perBatch?(batch, out)
        start += batchSize
    }
    let hasAttention = c.mode == .multimodal
    return EvaluationResult(
        samples: n,
        visual: c.mode.usesVisual ? visual.result : nil,
        audio: c.mode.usesAudio ? audio.result : nil,
        fusion: c.mode.usesFusion ? fusion.result : nil,
        attention: hasAttention ? attentionSum.map { $0 / Double(max(n, 1)) } : nil,
        attentionPerClass: hasAttention
            ? zip(attentionPerClass, attentionCount).map { s, k in s.map { $0 / Double(max(k, 1)) } } : nil,
        loss: lossSum.means(samples: n))
}

/// Sums of per-head losses weighted by batch size.
struct LossBreakdownSum {
    var sums: [String: Double] = [:]
    mutating func add(_ head: String, _ spikes: Tensor, _ labels: [Int]) {
        let (l, _) = SpikeRateLoss.mseLoss(spikes: spikes, labels: labels)
        sums[head, default: 0] += Double(l) * Double(labels.count)
    }
    func means(samples: Int) -> [String: Double] {
        var m = sums.mapValues { $0 / Double(max(samples, 1)) }
        m["total"] = sums.values.reduce(0, +) / Double(max(samples, 1))
        return m
    }
}
