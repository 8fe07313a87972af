import Foundation

/// `spikefuse report`: one self-contained HTML page about a run or an experiment: inline SVG
/// charts, inline CSS, no script, nothing fetched (a Content-Security-Policy forbids it). Every
/// chart is drawn from what the run directory records (metrics.jsonl), except the sample raster
/// and the attention over time steps, which come from one inference pass of the trained network
/// (`Simulation`) on test samples. Chart by chart: docs/reports.md.
public enum RunReport {
    /// A titled part of the page; `html` is trusted markup (charts, tables, escaped text).
    public struct Section: Sendable {
        public var title: String
        public var html: String
        public init(_ title: String, _ html: String) { self.title = title; self.html = html }
    }

    /// The whole page.
    public static func page(title: String, summary: String, sections: [Section]) -> String {
        var html = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
        <title>\(escape(title))</title>
        <style>
        body { font-family: sans-serif; margin: 24px auto; max-width: 1400px; color: #222; }
        h1 { font-size: 22px; } h2 { font-size: 18px; border-bottom: 1px solid #ccc; padding-top: 12px; }
        p.note { color: #555; max-width: 900px; } .charts { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
        table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #bbb; padding: 3px 8px; text-align: right; }
        th { background: #f0f0f0; } td:first-child, th:first-child { text-align: left; }
        nav a { margin-right: 14px; }
        </style></head><body>
        <h1>\(escape(title))</h1>
        <p class="note">\(escape(summary))</p>
        <nav>\(sections.enumerated().map { "<a href=\"#s\($0.offset)\">\(escape($0.element.title))</a>" }.joined())</nav>

        """
        for (i, s) in sections.enumerated() {
            html += "<h2 id=\"s\(i)\">\(escape(s.title))</h2>\n\(s.html)\n"
        }
        return html + "</body></html>\n"
    }

    /// HTML-escaped text.
    public static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func note(_ s: String) -> String { "<p class=\"note\">\(escape(s))</p>\n" }
    static func charts(_ svgs: [String]) -> String { "<div class=\"charts\">\n" + svgs.joined() + "</div>\n" }
    static func color(_ k: Int) -> String { SVGPlot.palette[k % SVGPlot.palette.count] }

    /// One line per key over epochs (`value(m, key)`, nil = no point), keys in the given order.
    static func curves(_ metrics: [EpochMetrics], keys: [String], title: String, yLabel: String,
                       yRange: ClosedRange<Double>? = nil, value: (EpochMetrics, String) -> Double?) -> String? {
        let series = keys.enumerated().compactMap { k, key -> SVGPlot.Series? in
            let points = metrics.compactMap { m in value(m, key).map { (x: Double(m.epoch), y: $0) } }
            return points.isEmpty ? nil : SVGPlot.Series(name: key, points: points, color: color(k))
        }
        guard !series.isEmpty else { return nil }
        return SVGPlot.lines(series: series, title: title, xLabel: "epoch", yLabel: yLabel, yRange: yRange, width: 520, height: 320)
    }

    static let heads = [("visual", "visual"), ("audio", "auditory"), ("fusion", "fused")]

    /// The sections metrics.jsonl alone gives: curves, confusion, attention per class, activity.
    public static func metricSections(_ metrics: [EpochMetrics]) -> [Section] {
        guard let last = metrics.last else { return [Section("Metrics", note("metrics.jsonl holds no finished epoch yet."))] }
        var out: [Section] = []
        let accuracy = curves(metrics, keys: heads.map(\.1), title: "Test accuracy per head", yLabel: "test accuracy (%)",
                              yRange: 0...100) { m, head in
            head == "visual" ? m.testVisual : head == "auditory" ? m.testAudio : m.testFusion
        }
        let terms = ["visual", "audio", "fusion", "total"].filter { last.trainLoss[$0] != nil }
        let train = curves(metrics, keys: terms, title: "Training loss per epoch (mean over batches)", yLabel: "loss") { $0.trainLoss[$1] }
        let test = curves(metrics, keys: terms, title: "Test loss per epoch", yLabel: "loss") { $0.testLoss[$1] }
        var batch: String?
        let logged = metrics.flatMap { $0.batchLosses ?? [] }
        if !logged.isEmpty {
            batch = SVGPlot.lines(series: terms.enumerated().map { k, term in
                SVGPlot.Series(name: term, points: logged.compactMap { b in b.loss[term].map { (Double(b.step), $0) } }, color: color(k))
            }, title: "Training loss every few batches", xLabel: "batches trained", yLabel: "loss", width: 520, height: 320)
        }
        out.append(Section("Loss and accuracy", charts([accuracy, train, test, batch].compactMap { $0 })
            + note("Accuracy: share of test samples whose head's output neuron of the true class fired most (ties: lowest class). "
                   + "Loss: the spike-rate loss of each head (eq. 6); total = their sum.")))

        if let confusion = last.confusion, !confusion.isEmpty {
            let maps = heads.compactMap { key, name -> String? in
                guard let m = confusion[key] else { return nil }
                let labels = m.indices.map(String.init)
                let correct = m.indices.reduce(0) { $0 + m[$1][$1] }, total = m.joined().reduce(0, +)
                return SVGPlot.heatMap(m.map { $0.map(Double.init) }, rowLabels: labels, columnLabels: labels,
                                       cellText: m.map { $0.map { $0 == 0 ? "" : String($0) } },
                                       title: String(format: "%@ head: %d / %d correct", name, correct, total),
                                       xLabel: "predicted class", yLabel: "true class", cell: m.count > 20 ? 14 : 28)
            }
            out.append(Section("Confusion matrices (epoch \(last.epoch))", charts(maps)
                + note("Counts of test samples by true class (rows) and predicted class (columns), as the trainer's test pass "
                       + "after epoch \(last.epoch) recorded them in metrics.jsonl; colour: share of the row.")))
        } else {
            out.append(Section("Confusion matrices", note("metrics.jsonl of this run records no confusion matrices (runs trained "
                + "before the report existed); `spikefuse evaluate RUN` prints them.")))
        }

        var attention: [String] = []
        if let perClass = last.attentionPerClass, perClass.allSatisfy({ $0.count == 2 }) {
            attention.append(SVGPlot.bars(groups: perClass.indices.map(String.init),
                                          series: [("w_v (visual)", color(0), perClass.map { $0[0] }),
                                                   ("w_a (auditory)", color(1), perClass.map { $0[1] })],
                                          title: "Mean attention weights per true class (epoch \(last.epoch))",
                                          yLabel: "weight", width: 520, height: 320))
        }
        if let overEpochs = curves(metrics, keys: ["w_v (visual)", "w_a (auditory)"], title: "Mean attention weights per epoch",
                                   yLabel: "weight", value: { m, key in m.attention.map { key.hasPrefix("w_v") ? $0[0] : $0[1] } }) {
            attention.append(overEpochs)
        }
        if !attention.isEmpty {
            out.append(Section("Attention", charts(attention)
                + note("The attention weights (w_v, w_a) scale the visual and auditory output spikes before the fused layer "
                       + "(eq. 5), averaged over the test set and its time steps.")))
        }

        let layers = last.activity?.map(\.layer) ?? []
        func activity(_ m: EpochMetrics, _ layer: String) -> NeuronActivity? { m.activity?.first { $0.layer == layer } }
        let rates = curves(metrics, keys: layers, title: "Firing rate per spiking layer", yLabel: "spikes / neuron / step") {
            activity($0, $1)?.firingRate
        }
        let silent = curves(metrics, keys: layers, title: "Never-firing neurons per layer", yLabel: "fraction of neurons",
                            yRange: 0...1) { activity($0, $1)?.silentFraction }
        let norms = curves(metrics, keys: (last.gradientNorms ?? [:]).keys.sorted(), title: "Gradient norm per layer",
                           yLabel: "L2 norm (epoch mean)") { $0.gradientNorms?[$1] }
        if rates != nil || norms != nil {
            out.append(Section("Spiking activity", charts([rates, silent, norms].compactMap { $0 })
                + note("Measured after each epoch on a fixed batch of test samples (NeuronActivity): spikes per neuron per time "
                       + "step, and the share of neurons that never fired on it. Gradient norm: L2 norm of the layer's loss gradient, "
                       + "mean over the epoch's batches.")))
        }
        return out
    }

    /// One test sample through the network, from input to output (`Simulation.run` with every
    /// spiking layer recorded): a raster per input, per spiking layer and of the output; and
    /// the attention weights over time steps, mean over `attentionSamples` test samples.
    /// Works for any `NetworkDescription`: the layers are those the description builds.
    public static func sampleSections(_ network: MultimodalNetwork, testSet: AudioVisualDataset, sample: Int = 0,
                                      attentionSamples: Int = 32) throws -> [Section] {
        let d = network.networkDescription
        let batch = try makeBatch(testSet, indices: [sample][...])
        var inputs: [String: Tensor] = [:]
        if d.branch(.dvs) != nil { inputs["visual"] = batch.visual }
        if d.branch(.cochlea) != nil { inputs["audio"] = batch.audio }
        let recorded = try Simulation.run(network, inputs: inputs, source: "test sample \(sample)", record: true)
        let output = recorded[0].tensor                                   // [T, 1, C]
        let counts = (0..<d.classes).map { c in (0..<output.shape[0]).reduce(Float(0)) { $0 + output.scalars[$1 * d.classes + c] } }
        let predicted = counts.indices.max { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 > $1) } ?? 0
        var rasters: [String] = []
        for (k, (name, x)) in inputs.sorted(by: { $0.key > $1.key }).enumerated() {
            rasters.append(raster(x, title: "input: \(name) \(Array(x.shape.dropFirst(2))) (events per bin > 0)", color: k == 0 ? "#444" : "#d9480f"))
        }
        for (k, (name, x)) in recorded.dropFirst().filter({ $0.name.hasPrefix("spikes.") }).enumerated() {
            rasters.append(raster(x, title: "\(name.dropFirst(7)) \(Array(x.shape.dropFirst(2))): spikes", color: color(k)))
        }
        let classTicks = (0..<d.classes).map { (row: $0, label: String($0)) }
        rasters.append(raster(output, title: "output (deciding head): \(d.classes) classes", color: "#2ca02c", rowTicks: classTicks))
        var out = [Section("One test sample through the network", note(
            "Test sample \(sample), true class \(batch.labels[0]), predicted class \(predicted) (most output spikes: "
                + counts.map { String(Int($0)) }.joined(separator: " ") + "). Network \(d.name): each raster shows which "
                + "neurons (rows, flattened channel-major; large layers every k-th neuron) were active at which time step.")
            + charts(rasters))]

        if network.fusion?.attentionWeights != nil || d.fusion != nil {
            let n = min(attentionSamples, testSet.count)
            let indices = (0..<n).map { $0 * testSet.count / max(n, 1) }
            let many = try makeBatch(testSet, indices: indices[...])
            var all: [String: Tensor] = [:]
            if d.branch(.dvs) != nil { all["visual"] = many.visual }
            if d.branch(.cochlea) != nil { all["audio"] = many.audio }
            if let w = try Simulation.run(network, inputs: all, source: "test samples", record: true).first(where: { $0.name == "attention" })?.tensor {
                let steps = w.shape[0], b = w.shape[1]
                let mean = (0..<2).map { j in (0..<steps).map { t in (0..<b).reduce(0.0) { $0 + Double(w.scalars[(t * b + $1) * 2 + j]) } / Double(b) } }
                let svg = SVGPlot.lines(series: [
                    SVGPlot.Series(name: "w_v (visual)", points: mean[0].enumerated().map { (Double($0), $1) }, color: color(0)),
                    SVGPlot.Series(name: "w_a (auditory)", points: mean[1].enumerated().map { (Double($0), $1) }, color: color(1)),
                ], title: "Attention weights over time steps (mean of \(b) test samples)", xLabel: "time step", yLabel: "weight",
                   width: 620, height: 320)
                out.append(Section("Attention over time steps", charts([svg])
                    + note("How the weights move within a sample: the mean over \(b) test samples spread evenly over the test set.")))
            }
        }
        return out
    }

    /// A raster of `x` `[T, 1, …]`: row = flattened neuron index, a dash where the value is > 0.
    /// More than `maxRows` neurons show every k-th neuron.
    static func raster(_ x: Tensor, title: String, color: String, rowTicks: [(row: Int, label: String)]? = nil,
                       maxRows: Int = 1024) -> String {
        let steps = x.shape[0], n = x.count / max(steps * x.shape[1], 1)
        let k = (n + maxRows - 1) / maxRows
        var spikes: [(t: Int, row: Int)] = []
        x.scalars.withUnsafeBufferPointer { p in
            for t in 0..<steps {
                for i in stride(from: 0, to: n, by: k) where p[t * x.shape[1] * n + i] > 0 { spikes.append((t, i / k)) }
            }
        }
        return SVGPlot.raster(spikes: spikes, steps: steps, rows: (n + k - 1) / k,
                              title: title + (k > 1 ? " (1 in \(k) of \(n) neurons)" : ""),
                              yLabel: k > 1 ? "neuron / \(k)" : "neuron", width: 660, rowTicks: rowTicks, color: color)
    }

    /// Table 1 and Fig. 3 of an experiment folder, and its runs.
    public static func experimentSections(_ runs: [ExperimentRun]) -> [Section] {
        var table = "<table><tr><th>mode</th><th>runs</th><th>mean (%)</th><th>std</th><th>best (%)</th></tr>\n"
        for r in Experiment.table(runs) {
            table += String(format: "<tr><td>%@</td><td>%d</td><td>%.2f</td><td>%.2f</td><td>%.2f</td></tr>\n",
                            r.mode.rawValue, r.n, r.mean, r.std, r.best)
        }
        table += "</table>\n"
        var each = "<table><tr><th>mode</th><th>seed</th><th>epochs</th><th>final (%)</th><th>w_v</th><th>w_a</th><th>seconds</th></tr>\n"
        for run in runs {
            let w = run.metrics.last?.attention
            each += String(format: "<tr><td>%@</td><td>%llu</td><td>%d</td><td>%.2f</td><td>%@</td><td>%@</td><td>%.0f</td></tr>\n",
                           run.mode.rawValue, run.seed, run.metrics.count, run.finalAccuracy,
                           w.map { String(format: "%.3f", $0[0]) } ?? "–", w.map { String(format: "%.3f", $0[1]) } ?? "–", run.seconds)
        }
        each += "</table>\n"
        return [
            Section("Table 1: test accuracy per mode", table
                + note("Final-epoch test accuracy of each mode's deciding head over its seeds (mean, sample std, best), as "
                       + "table1.md has it.")),
            Section("Fig. 3: test accuracy per epoch", charts([Experiment.figure3(runs).svg])
                + note("Mean over seeds, band from the lowest to the highest seed.")),
            Section("Runs", each),
        ]
    }
}
