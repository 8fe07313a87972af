import Foundation
import Multimodal

/// `make demo`: the whole system on the embedded default dataset, end to end.
enum DemoCommand {
    static let help = """
    usage: spikefuse demo [--out RUN_DIR] [--pairs N] [--epochs N] [--seed S] [--data DIR]

    Synthesises the embedded default dataset once (procedural handwritten digits shown to the
    DVS emulator, formant-synthesised spoken digits heard by the cochlea emulator; cached in
    ~/.cache/spikefuse), trains the paper's multimodal network with attention on it, and prints
    a Table-1-style summary with the run directory, metrics, pictures and report.html. Re-running continues
    a finished or interrupted demo run instead of starting over.

      --out RUN_DIR   run directory (runs/demo)
      --pairs N       audiovisual pairs in the default set (\(defaultPairs)); half train, half test
      --epochs N      training epochs (\(defaultEpochs))
      --seed S        seed of the data and of the training (1)
      --data DIR      use this dataset folder instead of the default set
    """
    static let defaultPairs = DefaultDataSet.pairs
    static let defaultEpochs = 6

    static func run(_ args: [String]) throws {
        var a = Arguments(args)
        if a.wantsHelp { print(help); return }
        let out = URL(fileURLWithPath: try a.string("out") ?? "runs/demo")
        let pairs = try a.int("pairs") ?? defaultPairs
        let epochs = try a.int("epochs") ?? defaultEpochs
        let seed = try a.uint64("seed") ?? 1
        let dataOverride = try a.string("data")
        try a.finish()
        guard pairs >= 20 else { throw UsageError("--pairs must be at least 20 (two per digit)") }
        let start = Date()

        // 1. The embedded default dataset, synthesised once.
        let folder: URL
        if let dataOverride {
            folder = URL(fileURLWithPath: dataOverride)
            print("data: \(folder.path)")
        } else {
            folder = try Cluster.leaderFirst { try DefaultDataSet.folder(pairs: pairs, seed: seed) }
        }
        // 2. Train the paper's multimodal network with attention.
        var data = JointDatasetConfiguration(dataFolder: folder)
        data.cacheDirectory = DataOptions.defaultCache
        let source = DataSource.joint(data)
        var training = TrainingConfiguration()
        training.epochs = epochs
        training.seed = seed
        let options = RunOptions(source: source, model: source.fitting(ModelConfiguration()), training: training)
        let resume = RunDirectory(out).hasCheckpoints
        var metrics: [EpochMetrics]
        do {
            metrics = try TrainCommand.train(options, out: out, resume: resume)
        } catch let error as CheckpointError where resume {
            warn("\(error); starting the demo run afresh")
            try? FileManager.default.removeItem(at: out)
            metrics = try TrainCommand.train(options, out: out, resume: false)
        }

        guard Cluster.isLeader else { return }     // under mpirun, rank 0 alone draws and reports
        // 3. Pictures: one recording of each modality (the paper's Fig. 2) and the accuracy curve.
        let pictures = out.appendingPathComponent("pictures")
        try FileManager.default.createDirectory(at: pictures, withIntermediateDirectories: true)
        let recording = try MNISTDVSLayout(root: folder).recordings().first!
        let visualPicture = pictures.appendingPathComponent("visual-sample.png")
        try RenderCommand.renderDVS(recording.url, slices: 4, scale: 6, crop: 40, windowMs: 800, to: visualPicture)
        let hdf5 = folder.appendingPathComponent("n-tidigits.hdf5")
        let audioKey = try NTidigitsFile.open(hdf5).keys(.train).first
        let audioPicture = pictures.appendingPathComponent("audio-sample.png")
        try RenderCommand.renderCochlea(hdf5, key: audioKey, to: audioPicture)
        let curve = pictures.appendingPathComponent("accuracy.svg")
        try writeAccuracyCurve(metrics, to: curve)
        let report = out.appendingPathComponent("report.html")
        try ReportCommand.write(out, to: report)

        // 4. Summary.
        guard let last = metrics.last else { return }
        print("""

        SpikeFuse demo: the paper's multimodal SNN with attention on the embedded default set
        (\(pairs) pairs: procedural digits → DVS emulator, formant speech → cochlea emulator)

        | head after epoch \(String(last.epoch).padding(toLength: 4, withPad: " ", startingAt: 0)) | test accuracy |
        |-----------------------|---------------|
        | visual (V-Network)    | \(percent(last.testVisual)) |
        | auditory (A-Network)  | \(percent(last.testAudio)) |
        | fused (attention)     | \(percent(last.testFusion)) |

        """ + (last.attention.map { String(format: "mean attention weights: w_v %.3f, w_a %.3f\n", $0[0], $0[1]) } ?? "")
            + String(format: "wall-clock time: %.0f s (this call); training and testing, all epochs: %.0f s\n",
                     Date().timeIntervalSince(start), metrics.reduce(0) { $0 + $1.trainSeconds + $1.testSeconds }) + """
        run directory: \(out.path)  (config.json, metrics.jsonl, checkpoints/, weights.safetensors, tb/)
        report:        \(report.path)   (one page, any browser; docs/reports.md)
        pictures:      \(visualPicture.path)
                       \(audioPicture.path)
                       \(curve.path)
        next:          tensorboard --logdir \(out.path)   (the curves, live while training)
                       spikefuse evaluate \(out.path)   (confusion matrices, attention per class)
        """)
    }

    static func percent(_ v: Double?) -> String {
        guard let v else { return "            –" }
        return String(format: "%11.2f %%", v)
    }

    /// Test accuracy of each head per epoch, as an SVG line plot.
    static func writeAccuracyCurve(_ metrics: [EpochMetrics], to url: URL) throws {
        let heads: [(String, KeyPath<EpochMetrics, Double?>)] =
            [("visual", \.testVisual), ("auditory", \.testAudio), ("fused (attention)", \.testFusion)]
        let series = heads.enumerated().compactMap { k, head -> SVGPlot.Series? in
            let points = metrics.compactMap { m in m[keyPath: head.1].map { (x: Double(m.epoch), y: $0) } }
            return points.isEmpty ? nil : SVGPlot.Series(name: head.0, points: points, color: SVGPlot.palette[k])
        }
        let svg = SVGPlot.lines(series: series, title: "Test accuracy per epoch", xLabel: "epoch",
                                yLabel: "test accuracy (%)", yRange: 0...100)
        try writeAtomically(Data(svg.utf8), to: url)
    }
}
