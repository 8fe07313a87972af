import Foundation
import Multimodal

/// Options shared by `train`, `experiment` and `evaluate`: where the data is and how it is framed.
enum DataOptions {
    static let help = """
      data (one of; default --synthetic):
        --data DIR                a folder with grabbed_data0…9/ (MNIST-DVS) and n-tidigits.hdf5,
                                  e.g. one written by `spikefuse synth`
        --visual DIR --audio FILE the MNIST-DVS root (grabbed_data*) and the N-TIDIGITS HDF5 file
        --synthetic               the small generated task (tests, quick checks)
      framing of real data (see docs/datasets.md):
        --scale 4|8|16 (4)  --timesteps T (64)  --crop PX (32, centred on the events)  --downsample K (1)
        --merge-polarity    one polarity channel instead of ON/OFF
        --counts            event counts per bin instead of binary spikes
        --split first-half|hdf5   the paper's first 50 % per class, or the HDF5 file's own audio split
        --bad-files skip|stop     skip unreadable recordings with a warning (default), or stop
        --cache DIR         frame cache (default ~/.cache/spikefuse); --no-cache keeps frames in memory
    """

    /// The default cache folder: `$XDG_CACHE_HOME/spikefuse` or `~/.cache/spikefuse`.
    static var defaultCache: String {
        let env = ProcessInfo.processInfo.environment
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/spikefuse" }
        return (env["HOME"] ?? NSTemporaryDirectory()) + "/.cache/spikefuse"
    }

    static func parse(_ a: inout Arguments) throws -> DataSource {
        let synthetic = a.flag("synthetic")
        let folder = try a.string("data")
        let visual = try a.string("visual"), audio = try a.string("audio")
        let scale = try a.int("scale"), timesteps = try a.int("timesteps")
        let crop = try a.int("crop"), downsample = try a.int("downsample")
        let merge = a.flag("merge-polarity"), counts = a.flag("counts")
        let split = try a.string("split"), badFiles = try a.string("bad-files")
        let cache = try a.string("cache"), noCache = a.flag("no-cache")

        let sources = [synthetic, folder != nil, visual != nil || audio != nil].filter { $0 }.count
        guard sources <= 1 else { throw UsageError("give one of --synthetic, --data DIR, or --visual DIR --audio FILE") }
        if synthetic || sources == 0 {
            guard [scale, timesteps, crop, downsample].allSatisfy({ $0 == nil }), !merge, !counts, split == nil else {
                throw UsageError("framing options apply to real data (--data or --visual/--audio), not --synthetic")
            }
            return .synthetic(SyntheticDatasetConfiguration())
        }
        var c: JointDatasetConfiguration
        if let folder {
            c = JointDatasetConfiguration(dataFolder: URL(fileURLWithPath: folder))
        } else {
            guard let visual, let audio else { throw UsageError("--visual and --audio go together") }
            c = JointDatasetConfiguration(mnistDVSRoot: visual, ntidigitsFile: audio)
        }
        c.cacheDirectory = noCache ? nil : (cache ?? defaultCache)
        if let scale { c.scale = scale }
        if let timesteps { c.timesteps = timesteps }
        if let crop { c.cropSize = crop }
        if let downsample { c.downsample = downsample }
        c.mergePolarity = merge
        if counts { c.value = .count }
        if let split {
            switch split {
            case "first-half", "firstHalf": c.splitMode = .firstHalf
            case "hdf5": c.splitMode = .hdf5
            default: throw UsageError("--split must be first-half or hdf5, got '\(split)'")
            }
        }
        if let badFiles {
            guard let p = BadFilePolicy(rawValue: badFiles) else { throw UsageError("--bad-files must be skip or stop") }
            c.badFiles = p
        }
        try c.validate()
        return .joint(c)
    }
}

/// Options shared by `train` and `experiment`: data source and model/optimiser settings.
struct RunOptions {
    var source: DataSource
    var model: ModelConfiguration
    var training: TrainingConfiguration

    static let help = DataOptions.help + """

      model (defaults: the paper's sizes; see docs/model.md):
        --visual-channels C1,C2   conv widths (32,32)        --visual-hidden N   fc1 width (128)
        --audio-hidden N          recurrent width (512)      --fusion-hidden N   fusion width H (64)
        --attention none|softmax  attention normalisation (none = the paper's eq. 5)
        --attention-readout sum|fc|integrator   what the weighted spikes feed: the output LIF
                                  (sum, eq. 5), the ablation's two FC layers (fc), or no neuron:
                                  scores are the weighted spike counts (integrator; docs/results.md)
        --attention-init random|identity   fusion.attention starts random (PyTorch default) or at
                                  w_v = w_a = 1 (identity; docs/results.md)
        --fusion-loss mse|ce      Lm: the paper's spike-rate MSE, or cross-entropy on the fused
                                  spike counts (ce; docs/results.md)
        --fusion-gradient end-to-end|fusion-only   Lm trains the fusion and both subnetworks
                                  (the paper), or the fusion only (docs/results.md)
        --attention-scale S       softmax weights S·softmax(z) (1); S > 1 lifts the equal split
                                  above Vth (docs/results.md)
        --tau-visual/--tau-audio/--tau-fusion X   decay τ (0.2 / 0.1 / 0.9)
        --threshold X             Vth (0.5)                  --surrogate-width X  a (1.0)
      training:
        --epochs N (20)  --batch-size N (32)  --lr X (1e-3)  --seed S (1)
        --lr-audio X              learning rate of the auditory subnetwork (default: --lr, as in
                                  the paper; 1e-4 trains it stably on real speech, docs/model.md)
        --lr-schedule constant|cosine   constant (the paper) or cosine annealing to 0 over the epochs
        --train-limit N / --test-limit N   use only N training samples per epoch / N test samples
        --keep-checkpoints N (3)
        --clip-grad-norm X        clip the global gradient norm to X before each step (off, as in the paper)
    """

    static func parse(_ a: inout Arguments) throws -> RunOptions {
        let source = try DataOptions.parse(&a)
        var model: ModelConfiguration
        if case .synthetic(let c) = source {
            model = SyntheticDataset(c, split: .train).modelConfiguration(mode: .multimodal)
        } else {
            model = ModelConfiguration()
        }
        model = source.fitting(model)
        if let v = try a.intList("visual-channels") { model.visualChannels = v }
        if let v = try a.int("visual-hidden") { model.visualHidden = v }
        if let v = try a.int("audio-hidden") { model.audioHidden = v }
        if let v = try a.int("fusion-hidden") { model.fusionHidden = v }
        if let v: AttentionNormalisation = try choice(&a, "attention", "--attention must be none or softmax") { model.attentionNormalisation = v }
        if let v: AttentionReadout = try choice(&a, "attention-readout", "--attention-readout must be sum, fc or integrator") { model.attentionReadout = v }
        if let v: FusionLoss = try choice(&a, "fusion-loss", "--fusion-loss must be mse or ce") { model.fusionLoss = v }
        if let v: AttentionInitialisation = try choice(&a, "attention-init", "--attention-init must be random or identity") { model.attentionInit = v }
        if let v: FusionGradient = try choice(&a, "fusion-gradient", "--fusion-gradient must be end-to-end or fusion-only") { model.fusionGradient = v }
        if let v = try a.double("attention-scale") { model.attentionScale = Float(v) }
        if let v = try a.double("tau-visual") { model.tauVisual = Float(v) }
        if let v = try a.double("tau-audio") { model.tauAudio = Float(v) }
        if let v = try a.double("tau-fusion") { model.tauFusion = Float(v) }
        if let v = try a.double("threshold") { model.threshold = Float(v) }
        if let v = try a.double("surrogate-width") { model.surrogateWidth = Float(v) }
        var training = TrainingConfiguration()
        if let v = try a.int("epochs") { training.epochs = v }
        if let v = try a.int("batch-size") { training.batchSize = v }
        if let v = try a.double("lr") {
            guard v > 0 else { throw UsageError("--lr must be positive") }
            training.learningRate = Float(v)
        }
        if let v: LearningRateSchedule = try choice(&a, "lr-schedule", "--lr-schedule must be constant or cosine") {
            training.learningRateSchedule = v
        }
        if let v = try a.double("lr-audio") {
            guard v >= 0 else { throw UsageError("--lr-audio must not be negative") }
            training.audioLearningRate = Float(v)
        }
        if let v = try a.uint64("seed") { training.seed = v }
        training.trainLimit = try positiveLimit(&a, "train-limit")
        training.testLimit = try positiveLimit(&a, "test-limit")
        if let v = try a.int("keep-checkpoints") { training.keepCheckpoints = v }
        if let v = try a.double("clip-grad-norm") {
            guard v > 0 else { throw UsageError("--clip-grad-norm must be positive") }
            training.clipGradientNorm = Float(v)
        }
        for warning in [model.attentionTrainingWarning, model.readoutLossWarning].compactMap({ $0 }) {
            FileHandle.standardError.write(Data("spikefuse: warning: \(warning)\n".utf8))
        }
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

/// `--NAME VALUE` for an option whose values are an enum's raw values; nil when absent,
/// a usage error with `message` when the value is not one of them.
func choice<T: RawRepresentable>(_ a: inout Arguments, _ name: String, _ message: String) throws -> T?
where T.RawValue == String {
    guard let v = try a.string(name) else { return nil }
    guard let value = T(rawValue: v) else { throw UsageError(message) }
    return value
}

/// `--NAME N`, a sample count that must be at least 1; nil when absent.
func positiveLimit(_ a: inout Arguments, _ name: String) throws -> Int? {
    guard let v = try a.int(name) else { return nil }
    guard v >= 1 else { throw UsageError("--\(name) must be at least 1 (got \(v))") }
    return v
}
