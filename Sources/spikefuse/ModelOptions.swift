import Foundation
import Multimodal
import NIRInterchange

/// Options shared by `train`, `experiment` and `evaluate`: where the data is and how it is framed.
enum DataOptions {
    static let help = """
      data (default: the embedded default set of `spikefuse demo`, synthesised once):
        --data DIR                the kind is found from the folder's layout:
                                  grabbed_data0…9/ (MNIST-DVS) and n-tidigits.hdf5, e.g. one written
                                  by `spikefuse synth`: the paper's joint set;
                                  shd_train.h5 + shd_test.h5 (SHD, 20 classes) or ssc_*.h5 (SSC, 35):
                                  audio only (--mode audio, or a network with only a cochlea branch);
                                  DVS128 Gesture, CIFAR10-DVS, N-Caltech101 or N-MNIST: visual only
                                  (--mode visual, or a network with only a dvs branch), fitted to
                                  its input (docs/datasets.md)
        --visual DIR --audio FILE the MNIST-DVS root (grabbed_data*) and the N-TIDIGITS HDF5 file
        --synthetic               the small generated task (tests, quick checks)
      framing of real data (see docs/datasets.md):
        --scale 4|8|16 (4)  --timesteps T (64)  --crop PX (32, centred on the events; event
                            folders: a centred PX × PX of the sensor, then downsampled)
        --counts            event counts per bin instead of binary spikes
        --split first-half|hdf5   the paper's first 50 % per class, or the sets' own splits (audio file, N-MNIST)
        --bad-files skip|stop     skip unreadable recordings with a warning (default), or stop
        --cache DIR|none    frame cache (default ~/.cache/spikefuse); none keeps frames in memory
    """

    /// The embedded default set, framed with the defaults (`DefaultDataSet.prepare`
    /// synthesises it before its first use).
    static func defaultSource() throws -> DataSource {
        var c = JointDatasetConfiguration(dataFolder: DefaultDataSet.path())
        c.cacheDirectory = defaultCache
        return .joint(c)
    }

    /// The default cache folder: `$XDG_CACHE_HOME/spikefuse` or `~/.cache/spikefuse`.
    static var defaultCache: String {
        let env = ProcessInfo.processInfo.environment
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/spikefuse" }
        return (env["HOME"] ?? NSTemporaryDirectory()) + "/.cache/spikefuse"
    }

    /// Whether a data folder holds the joint set's visual part (MNIST-DVS's `grabbed_data*`
    /// or N-MNIST's `Train/`, `Test/`); SHD files beside it are then its audio part.
    static func holdsVisual(_ folder: URL) -> Bool {
        NMNISTLayout.looksLikeNMNIST(folder)
            || ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).contains { $0.hasPrefix("grabbed_data") }
    }

    /// The data options given, or nil when none is (not even a framing option): the caller
    /// then picks its default (a run's own data, or the embedded default set).
    static func parse(_ a: inout Arguments) throws -> DataSource? {
        let synthetic = a.flag("synthetic")
        let folder = try a.string("data")
        let visual = try a.string("visual"), audio = try a.string("audio")
        let scale = try a.int("scale"), timesteps = try a.int("timesteps")
        let crop = try a.int("crop"), counts = a.flag("counts")
        let split = try a.string("split"), badFiles = try a.string("bad-files")
        let cache = try a.string("cache")
        let shdOption = try a.string("shd")   // kept working; `--data DIR` finds SHD and SSC folders too
        var shd = shdOption, events: String?
        if let f = folder, shd == nil {
            let url = URL(fileURLWithPath: f)
            if EventFolderConfiguration.Kind.detect(url) != nil { events = f }
            else if !holdsVisual(url), (try? SHDClassConfiguration(path: f)) != nil { shd = f }
        }

        let sources = [synthetic, folder != nil, visual != nil || audio != nil, shdOption != nil].filter { $0 }.count
        let framing = [scale, timesteps, crop].contains { $0 != nil } || counts
            || split != nil || badFiles != nil || cache != nil
        if sources == 0 && !framing { return nil }
        guard sources <= 1 else { throw UsageError("give one of --synthetic, --data DIR, --shd DIR, or --visual DIR --audio FILE") }
        if synthetic {
            guard [scale, timesteps, crop].allSatisfy({ $0 == nil }), !counts, split == nil else {
                throw UsageError("framing options apply to event data (--data or --visual/--audio), not --synthetic")
            }
            return .synthetic(SyntheticDatasetConfiguration())
        }
        let cacheDirectory = cache == "none" ? nil : (cache ?? defaultCache)
        let badFilePolicy = try badFiles.map { v -> BadFilePolicy in
            guard let p = BadFilePolicy(rawValue: v) else { throw UsageError("--bad-files must be skip or stop") }
            return p
        }
        /// `make()` with the options every framed-once source takes; its configuration errors
        /// become usage errors naming `option` (not the joint dataset's wording).
        func framed<C: FramedDataSettings>(_ option: String, _ make: () throws -> C) throws -> C {
            do {
                var c = try make()
                c.cacheDirectory = cacheDirectory
                if let timesteps { c.timesteps = timesteps }
                if counts { c.value = .count }
                if let badFilePolicy { c.badFiles = badFilePolicy }
                try c.validate()
                return c
            } catch DatasetError.badConfiguration(let reason) {
                throw UsageError("\(option): \(reason)")
            }
        }
        if let events {
            guard scale == nil, split == nil else {
                throw UsageError("--scale and --split frame the joint dataset; \(events) is fitted to the network's input and has its own split")
            }
            return .events(try framed("--data") {
                var c = try EventFolderConfiguration(path: events)
                c.crop = crop
                return c
            })
        }
        if let shd {
            guard scale == nil, crop == nil, split == nil else {
                throw UsageError("--scale, --crop and --split frame the joint dataset; --shd has no images and uses its files' own train/test split")
            }
            return .shd(try framed("--shd") { try SHDClassConfiguration(path: shd) })
        }
        var c: JointDatasetConfiguration
        if sources == 0 {
            c = JointDatasetConfiguration(dataFolder: DefaultDataSet.path())
        } else if let folder {
            c = JointDatasetConfiguration(dataFolder: URL(fileURLWithPath: folder))
        } else {
            guard let visual, let audio else { throw UsageError("--visual and --audio go together") }
            c = JointDatasetConfiguration(mnistDVSRoot: visual, ntidigitsFile: audio)
        }
        c.cacheDirectory = cacheDirectory
        if let scale { c.scale = scale }
        if let timesteps { c.timesteps = timesteps }
        if let crop { c.cropSize = crop }
        if counts { c.value = .count }
        if let split {
            switch split {
            case "first-half", "firstHalf": c.splitMode = .firstHalf
            case "hdf5": c.splitMode = .hdf5
            default: throw UsageError("--split must be first-half or hdf5, got '\(split)'")
            }
        }
        if let badFilePolicy { c.badFiles = badFilePolicy }
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

      model (default: the paper's network and sizes; docs/model.md):
        --network FILE|NAME       a network description (JSON, docs/networks.md) or a shipped one
                                  by name (paper-multimodal, paper-visual, …, example-shd-adaptive,
                                  example-dvs-gesture-plif: docs/networks.md); its inputs must
                                  match the data's framing. Excludes --config, --readout, --mode
        --readout neuron|integrator   the attention's readout: the paper's output neuron (eq. 5),
                                  or the integrator extension (docs/results.md)
        --config JSON|FILE        other model settings, as in config.json's "model", e.g.
                                  '{"audio_hidden": 256, "tau_visual": 0.3}'
      training:
        --epochs N (\(TrainingConfiguration().epochs))  --batch-size N (32)  --lr X (1e-3)  --seed S (1)
        --lr-schedule cosine|constant   cosine annealing from --lr towards 0 over the epochs
                                  (default), or constant (the paper; docs/model.md)
        --train-limit N / --test-limit N   use only N training samples per epoch / N test samples
        --gradient-shards N (4)   each batch's gradient is summed from N shards in a fixed order, so
                                  `mpirun -np R` (R a power of two dividing N) gives the weights of one
                                  process bit for bit (docs/distributed.md)
        --augment crop,drop=P,flip[=P],jitter=PX,tjitter=US,skew=K,noise=N   event augmentations
                                  of every training sample (event folders), seeded by --seed, the
                                  epoch and the sample (docs/datasets.md)
    """

    static func parse(_ a: inout Arguments) throws -> RunOptions {
        var peek = a
        let timestepsGiven = try peek.int("timesteps") != nil
        var source = try DataOptions.parse(&a) ?? DataOptions.defaultSource()
        var model: ModelConfiguration
        if case .synthetic(let c) = source {
            model = SyntheticDataset(c, split: .train).modelConfiguration(mode: .multimodal)
        } else {
            model = ModelConfiguration()
        }
        let config = try a.string("config")
        let readout: AttentionReadout? = try choice(&a, "readout", "--readout must be neuron or integrator")
        if let name = try a.string("network") {
            guard config == nil, readout == nil else {
                throw UsageError("--config and --readout resize the paper's network; with --network, edit the network file")
            }
            let network = try NetworkOption.load(name)
            model = try ModelConfiguration(network: network)
            source = try source.fitted(to: model, keepTimesteps: timestepsGiven, source: name)
            try source.check(network, source: name)
        } else {
            if let config { model = try modelSettings(config, over: model) }
            model = source.fitting(model)
            if let readout { model.attentionReadout = readout }
        }
        var training = TrainingConfiguration()
        if let v = try a.int("epochs") { training.epochs = v }
        if let v = try a.int("batch-size") { training.batchSize = v }
        if let v = try a.double("lr") {
            guard v > 0 else { throw UsageError("--lr must be positive") }
            training.learningRate = Float(v)
        }
        if let v: LearningRateSchedule = try choice(&a, "lr-schedule", "--lr-schedule must be cosine or constant") {
            training.learningRateSchedule = v
        }
        if let v = try a.uint64("seed") { training.seed = v }
        if let v = try a.int("gradient-shards") {
            guard FixedOrderSum.supports(ranks: v) else { throw UsageError("--gradient-shards must be a power of two (1, 2, 4, 8, …)") }
            training.gradientShards = v
        }
        training.trainLimit = try positiveLimit(&a, "train-limit")
        training.testLimit = try positiveLimit(&a, "test-limit")
        if let text = try a.string("augment") {
            do { training.augmentation = try AugmentationSettings(parsing: text) } catch DatasetError.badConfiguration(let reason) {
                throw UsageError(reason)
            }
        }
        return RunOptions(source: source, model: model, training: training)
    }

    /// `--config`: a JSON object (inline, or the path of a file holding one) whose keys are
    /// model settings; they replace those of `base`. The input sizes still follow the data.
    static func modelSettings(_ text: String, over base: ModelConfiguration) throws -> ModelConfiguration {
        let json: String
        if text.trimmingCharacters(in: .whitespaces).hasPrefix("{") {
            json = text
        } else {
            guard let data = FileManager.default.contents(atPath: text) else {
                throw UsageError("--config \(text): not a JSON object and no such file")
            }
            json = String(decoding: data, as: UTF8.self)
        }
        guard let given = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] else {
            throw UsageError("--config \(text): not a JSON object")
        }
        let baseObject = (try? JSONSerialization.jsonObject(with: Data(base.jsonString().utf8))) as? [String: Any] ?? [:]
        do {
            return try ModelConfiguration.fromJSONObject(baseObject.merging(given) { _, new in new })
        } catch {
            throw UsageError("--config \(text): \(error)")
        }
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

/// `--network FILE|NAME`: a description file (JSON, or a NIR graph's structure), or a shipped
/// network by name.
enum NetworkOption {
    static func load(_ text: String) throws -> NetworkDescription {
        if FileManager.default.fileExists(atPath: text) {
            let url = URL(fileURLWithPath: text)
            if text.lowercased().hasSuffix(".nir") {   // its structure; the weights start afresh (docs/interop.md)
                return try NIRImport.description(try NIRFile.read(url), file: text).description
            }
            return try NetworkDescription.load(url)
        }
        if text.hasPrefix("paper-"), let mode = TrainingMode(rawValue: String(text.dropFirst(6))) {
            return try PaperNetworks.shipped(mode)
        }
        if let example = try PaperNetworks.example(text) { return example }
        throw UsageError("--network \(text): no such file, and not a shipped network ("
            + (TrainingMode.allCases.map { "paper-\($0.rawValue)" } + PaperNetworks.examples).joined(separator: ", ") + ")")
    }
}
