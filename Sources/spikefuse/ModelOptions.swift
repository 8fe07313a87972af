import Multimodal

/// Options shared by `train` and `experiment`: data source and model/optimiser settings.
struct RunOptions {
    var source: DataSource
    var model: ModelConfiguration
    var training: TrainingConfiguration

    static let help = """
      data (one of):
        --synthetic               the small generated task (default when no data is given)
      model (defaults: the paper's sizes; see docs/model.md):
        --visual-channels C1,C2   conv widths (32,32)        --visual-hidden N   fc1 width (128)
        --audio-hidden N          recurrent width (512)      --fusion-hidden N   fusion width H (64)
        --attention none|softmax  attention normalisation (none = the paper's eq. 5)
        --tau-visual/--tau-audio/--tau-fusion X   decay τ (0.2 / 0.1 / 0.9)
        --threshold X             Vth (0.5)                  --surrogate-width X  a (1.0)
      training:
        --epochs N (20)  --batch-size N (32)  --lr X (1e-3)  --seed S (1)
        --train-limit N / --test-limit N   use only the first N samples per epoch / of the test set
        --keep-checkpoints N (3)
    """

    static func parse(_ a: inout Arguments) throws -> RunOptions {
        let synthetic = a.flag("synthetic")
        _ = synthetic
        let source = DataSource.synthetic(SyntheticDatasetConfiguration())
        var model: ModelConfiguration
        if case .synthetic(let c) = source {
            model = SyntheticDataset(c, split: .train).modelConfiguration(mode: .multimodal)
        } else {
            model = ModelConfiguration()
        }
        model = try source.fitting(model)
        if let v = try a.intList("visual-channels") { model.visualChannels = v }
        if let v = try a.int("visual-hidden") { model.visualHidden = v }
        if let v = try a.int("audio-hidden") { model.audioHidden = v }
        if let v = try a.int("fusion-hidden") { model.fusionHidden = v }
        if let v = try a.string("attention") {
            guard let n = AttentionNormalisation(rawValue: v) else { throw UsageError("--attention must be none or softmax") }
            model.attentionNormalisation = n
        }
        if let v = try a.double("tau-visual") { model.tauVisual = Float(v) }
        if let v = try a.double("tau-audio") { model.tauAudio = Float(v) }
        if let v = try a.double("tau-fusion") { model.tauFusion = Float(v) }
        if let v = try a.double("threshold") { model.threshold = Float(v) }
        if let v = try a.double("surrogate-width") { model.surrogateWidth = Float(v) }
        var training = TrainingConfiguration()
        if let v = try a.int("epochs") { training.epochs = v }
        if let v = try a.int("batch-size") { training.batchSize = v }
        if let v = try a.double("lr") { training.learningRate = Float(v) }
        if let v = try a.uint64("seed") { training.seed = v }
        if let v = try a.int("train-limit") { training.trainLimit = v }
        if let v = try a.int("test-limit") { training.testLimit = v }
        if let v = try a.int("keep-checkpoints") { training.keepCheckpoints = v }
        return RunOptions(source: source, model: model, training: training)
    }
}

/// One line per epoch, as `train` and `demo` print it.
func describe(_ m: EpochMetrics) -> String {
    var parts = ["epoch \(m.epoch)"]
    parts.append(String(format: "loss %.4f", m.trainLoss["total"] ?? 0))
    if let v = m.testVisual { parts.append(String(format: "visual %.2f%%", v)) }
    if let v = m.testAudio { parts.append(String(format: "audio %.2f%%", v)) }
    if let v = m.testFusion { parts.append(String(format: "fused %.2f%%", v)) }
    if let w = m.attention { parts.append(String(format: "attention w_v %.3f w_a %.3f", w[0], w[1])) }
    parts.append(String(format: "%.1f samples/s", m.samplesPerSecond))
    return parts.joined(separator: "  ")
}
