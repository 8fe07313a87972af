/// Test-set evaluation: accuracy of each head, confusion matrices, attention statistics.

/// Accuracy and confusion of one head.
public struct HeadEvaluation: Codable, Sendable, Equatable {
    /// Correct predictions in %, prediction = most output spikes (ties → lowest class).
    public var accuracy: Double
    /// `confusion[true][predicted]` counts.
    public var confusion: [[Int]]
    /// Classes whose output neuron fired no spike on any sample of the set. A LIF neuron whose
    /// membrane stays below Vth − a/2 gets no surrogate gradient (eq. 9), so a silent output
    /// neuron behind trained weights is usually a dead one: its class is predicted only by a
    /// tie, when every output is silent (docs/results.md, item 8).
    public var silentOutputs: [Int]

    public init(accuracy: Double, confusion: [[Int]], silentOutputs: [Int] = []) {
        self.accuracy = accuracy
        self.confusion = confusion
        self.silentOutputs = silentOutputs
    }

    enum CodingKeys: String, CodingKey {
        case accuracy, confusion
        case silentOutputs = "silent_outputs"
    }
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

/// Accumulates predictions and output spike counts of one head.
struct HeadTally {
    var confusion: [[Int]]
    /// Output spikes per class, summed over samples and timesteps.
    var spikesPerClass: [Float]
    init(classes: Int) {
        confusion = Array(repeating: Array(repeating: 0, count: classes), count: classes)
        spikesPerClass = Array(repeating: 0, count: classes)
    }
    /// `spikes`: a head's output spike trains `[T, B, C]`.
    mutating func add(spikes: Tensor, labels: [Int]) {
        let counts = SpikeRateLoss.spikeCounts(spikes)               // [B, C]
        let classes = counts.shape[1]
        for (i, n) in counts.scalars.enumerated() { spikesPerClass[i % classes] += n }
        for (p, y) in zip(SpikeRateLoss.predictions(counts: counts), labels) { confusion[y][p] += 1 }
    }
    var result: HeadEvaluation {
        let total = confusion.joined().reduce(0, +)
        let correct = confusion.indices.reduce(0) { $0 + confusion[$1][$1] }
        return HeadEvaluation(accuracy: total == 0 ? 0 : 100 * Double(correct) / Double(total), confusion: confusion,
                              silentOutputs: total == 0 ? [] : spikesPerClass.indices.filter { spikesPerClass[$0] == 0 })
    }
}

/// Runs the network over a whole dataset (inference only) and tallies every head.
/// `limit` restricts evaluation to N samples spread evenly over the dataset (indices
/// ⌊i·count/N⌋, so a dataset listed class by class keeps every class; nil = all);
/// `perBatch` sees each batch with the dataset indices of its samples. Each batch runs as 4
/// blocks of samples on the cores at once (`NetworkReplicas.forward`); a fixed block count, so
/// the results do not depend on the number of cores.
public func evaluate(_ network: MultimodalNetwork, on dataset: AudioVisualDataset, batchSize: Int,
                     limit: Int? = nil,
                     perBatch: (([Int], Batch, HeadOutputs) -> Void)? = nil) throws -> EvaluationResult {
    try evaluate(NetworkReplicas(network), on: dataset, batchSize: batchSize, limit: limit, perBatch: perBatch)
}

/// `evaluate` on `replicas.network`, forwarding on the copies `replicas` already holds (the
/// trainer's, so that each epoch's test pass makes no new network copy).
public func evaluate(_ replicas: NetworkReplicas, on dataset: AudioVisualDataset, batchSize: Int,
                     limit: Int? = nil,
                     perBatch: (([Int], Batch, HeadOutputs) -> Void)? = nil) throws -> EvaluationResult {
    let network = replicas.network, c = network.configuration
    let wasTraining = network.isTraining
    network.setTraining(false)          // keep nothing for backward while evaluating
    defer { network.setTraining(wasTraining) }
    let n = min(dataset.count, limit ?? dataset.count)
    guard n > 0 else {   // an accuracy over no sample is no result (issue 40)
        throw ConfigurationError.invalid("the evaluation set has 0 samples: no accuracy to report "
                                         + "(were its recordings all unreadable? see the warnings above)")
    }
    guard dataset.classCount <= c.classes else {
        throw ConfigurationError.invalid("the evaluation set has \(dataset.classCount) classes, the network \(c.classes) outputs")
    }
    let indices = evenlySpreadIndices(count: n, of: dataset.count)
    var visual = HeadTally(classes: c.classes), audio = HeadTally(classes: c.classes)
    var fusion = HeadTally(classes: c.classes)
    var attentionSum = [Double](repeating: 0, count: 2)
    var attentionPerClass = Array(repeating: [0.0, 0.0], count: c.classes)
    var attentionCount = [Int](repeating: 0, count: c.classes)
    var lossSum = LossBreakdownSum()
    var start = 0
    while start < n {
        let chosen = Array(indices[start..<min(n, start + batchSize)])
        let batch = try makeBatch(dataset, indices: chosen[...])
        let out = try replicas.forward(visual: c.mode.usesVisual ? batch.visual : nil,
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
        perBatch?(chosen, batch, out)
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

/// Accuracy of each head and mean attention weights over one group of test samples.
public struct ConditionEvaluation: Codable, Sendable, Equatable {
    public var samples = 0
    public var visual: Double?
    public var audio: Double?
    public var fusion: Double?
    /// Mean (w_v, w_a) over the group's samples and timesteps (attention mode only).
    public var attention: [Double]?
}

/// Evaluates the test set grouped by `condition(index)` (e.g. "clean", "visual corrupted"):
/// per group, the accuracy of every head and the mean attention weights — the measurement of
/// whether the attention moves to the reliable modality when one sensor fails.
public func evaluateByCondition(_ network: MultimodalNetwork, on dataset: AudioVisualDataset, batchSize: Int,
                                limit: Int? = nil,
                                condition: @escaping (Int) -> String) throws -> [String: ConditionEvaluation] {
    struct Tally { var n = 0, visual = 0, audio = 0, fusion = 0, wv = 0.0, wa = 0.0 }
    var tallies: [String: Tally] = [:]
    let mode = network.configuration.mode
    _ = try evaluate(network, on: dataset, batchSize: batchSize, limit: limit) { range, batch, out in
        let predict: (Tensor) -> [Int] = { SpikeRateLoss.predictions($0) }
        let predictions = (out.visual.map(predict), out.audio.map(predict), out.fusion.map(predict))
        for (j, index) in range.enumerated() {
            let y = batch.labels[j]
            var t = tallies[condition(index)] ?? Tally()
            t.n += 1
            if predictions.0?[j] == y { t.visual += 1 }
            if predictions.1?[j] == y { t.audio += 1 }
            if predictions.2?[j] == y { t.fusion += 1 }
            if let w = out.attention {
                let steps = w.shape[0], b = w.shape[1]
                for s in 0..<steps {
                    t.wv += Double(w[flat: (s * b + j) * 2]) / Double(steps)
                    t.wa += Double(w[flat: (s * b + j) * 2 + 1]) / Double(steps)
                }
            }
            tallies[condition(index)] = t
        }
    }
    return tallies.mapValues { t in
        func pct(_ k: Int) -> Double { 100 * Double(k) / Double(max(t.n, 1)) }
        return ConditionEvaluation(samples: t.n, visual: mode.usesVisual ? pct(t.visual) : nil,
                                   audio: mode.usesAudio ? pct(t.audio) : nil,
                                   fusion: mode.usesFusion ? pct(t.fusion) : nil,
                                   attention: mode == .multimodal ? [t.wv / Double(max(t.n, 1)), t.wa / Double(max(t.n, 1))] : nil)
    }
}

/// `count` indices spread evenly over `0..<total`: ⌊i·total/count⌋ for i < count (all of
/// them when count = total).
public func evenlySpreadIndices(count: Int, of total: Int) -> [Int] {
    (0..<count).map { $0 * total / count }
}

/// The activity of every spiking layer of the visual and auditory networks (`NeuronActivity`)
/// on one batch of up to `samples` test samples spread evenly over `dataset`.
public func measureActivity(_ network: MultimodalNetwork, on dataset: AudioVisualDataset,
                            samples: Int = 64) throws -> [NeuronActivity] {
    let c = network.configuration
    let n = min(dataset.count, samples)
    guard n > 0 else { return [] }
    let batch = try makeBatch(dataset, indices: evenlySpreadIndices(count: n, of: dataset.count)[...])
    network.setTraining(true)           // keep the membranes of this forward
    _ = network.forward(visual: c.mode.usesVisual ? batch.visual : nil,
                        audio: c.mode.usesAudio ? batch.audio : nil)
    return (network.visual.map(NeuronActivity.of) ?? []) + (network.audio.map(NeuronActivity.of) ?? [])
}
