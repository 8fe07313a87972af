import XCTest
@testable import Multimodal
@testable import EventIO

/// `spikefuse report` (issue 44): one self-contained page with every chart, for the paper's
/// network and for any description; rendered by headless Chromium without console errors.
final class ReportTests: XCTestCase {
    /// One tiny trained run shared by the tests of this class (training is the slow part).
    nonisolated(unsafe) private static var run: URL?
    private static let root = FileManager.default.temporaryDirectory.appendingPathComponent("sf-report-\(UUID())")

    override class func tearDown() { try? FileManager.default.removeItem(at: root) }

    private func trainedRun() throws -> URL {
        if let run = Self.run { return run }
        let dir = Self.root.appendingPathComponent("run")
        let r = try runSpikefuse(["train", "--out", dir.path, "--epochs", "2", "--synthetic", "--train-limit", "32",
                                  "--test-limit", "16", "--batch-size", "16"])
        XCTAssertEqual(r.status, 0, r.stderr)
        Self.run = dir
        return dir
    }

    func testRunReportHasEveryChartAndNothingExternal() throws {
        let run = try trainedRun()
        let r = try runSpikefuse(["report", run.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let html = try String(contentsOf: run.appendingPathComponent("report.html"), encoding: .utf8)
        for title in ["Test accuracy per head", "Training loss per epoch", "Training loss every few batches",
                      "Confusion matrices (epoch 2)", "fused head:", "Mean attention weights per true class",
                      "Firing rate per spiking layer", "Never-firing neurons per layer", "Gradient norm per layer",
                      "One test sample through the network", "input: visual", "input: audio", "output (deciding head)",
                      "Attention over time steps"] {
            XCTAssertTrue(html.contains(title), "missing: \(title)")
        }
        // Every spiking layer the run measured has its raster.
        let layers = try XCTUnwrap(RunDirectory(run).readMetrics().last?.activity).map(\.layer)
        XCTAssertGreaterThan(layers.count, 3)
        for layer in layers { XCTAssertTrue(html.contains(">\(layer) ["), "no raster of \(layer)") }
        // Self-contained: no script, no link, nothing loaded (the only URL is SVG's namespace).
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains("<link"))
        XCTAssertFalse(html.contains("src="))
        XCTAssertEqual(html.components(separatedBy: "://").count, html.components(separatedBy: "http://www.w3.org/2000/svg").count)
    }

    /// A user's network that is not the paper's: one visual branch with a convolution and a
    /// recurrent layer. The sample section draws each of its layers.
    func testSampleRastersFollowAnyNetworkDescription() throws {
        var data = SyntheticDatasetConfiguration()
        data.trainCount = 8; data.testCount = 8
        let test = SyntheticDataset(data, split: .test)
        let neuron = NeuronDescription(tau: 0.3)
        let d = NetworkDescription(name: "mine", timesteps: data.timesteps, classes: data.classes, branches: [
            BranchDescription("visual", .dvs, shape: [data.polarities, data.imageSize, data.imageSize], neuron: neuron, layers: [
                .conv2d("c1", channels: 4, kernel: 3, stride: 2, padding: 1), .lif(), .flatten,
                .recurrent("rec", features: 12), .linear("out", features: data.classes), .lif(),
            ]),
        ])
        let network = try MultimodalNetwork(try ModelConfiguration(network: d), seed: 3)
        let sections = try RunReport.sampleSections(network, testSet: test, sample: 2)
        XCTAssertEqual(sections.map(\.title), ["One test sample through the network"], "no fusion, no attention section")
        let html = sections[0].html
        for title in [">input: visual [2, \(data.imageSize), \(data.imageSize)]", ">visual.c1 [4, 6, 6]: spikes",
                      ">visual.rec [12]: spikes", ">visual.out [\(data.classes)]: spikes", ">output (deciding head)"] {
            XCTAssertTrue(html.contains(title), "missing: \(title)")
        }
        XCTAssertTrue(html.contains("Network mine"))
    }

    func testExperimentReportHasTable1AndFig3() throws {
        let run = try trainedRun()
        let experiment = Self.root.appendingPathComponent("experiment")
        for seed in [1, 2] {
            let dir = experiment.appendingPathComponent("multimodal/seed-\(seed)")
            try FileManager.default.createDirectory(at: dir.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: run, to: dir)
        }
        let out = Self.root.appendingPathComponent("experiment.html")
        let r = try runSpikefuse(["report", experiment.path, "--out", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let html = try String(contentsOf: out, encoding: .utf8)
        let fusion = try XCTUnwrap(RunDirectory(run).readMetrics().last?.testFusion)
        XCTAssertTrue(html.contains(String(format: "<tr><td>multimodal</td><td>2</td><td>%.2f</td><td>0.00</td>", fusion)), html)
        XCTAssertTrue(html.contains("Test accuracy per epoch (mean, min–max over seeds)"))
        XCTAssertTrue(html.contains("multimodal seed 1: One test sample through the network"))
        let bad = try runSpikefuse(["report", Self.root.path])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("neither a run directory"), bad.stderr)
    }

    // MARK: Chromium

    private func chromium() throws -> String {
        for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        where FileManager.default.isExecutableFile(atPath: path) { return path }
        throw XCTSkip("Chromium not installed (apt-get install -y chromium): the report is not rendered in a browser")
    }

    /// Renders `page` to a PNG; returns the PNG's pixels and the console messages Chromium logged.
    private func render(_ page: URL, to png: URL, height: Int) throws -> (pixels: [UInt8], width: Int, console: [String]) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try chromium())
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--screenshot=\(png.path)",
                       "--window-size=1400,\(height)", "--enable-logging=stderr", "--v=0", page.absoluteString]
        let errors = Pipe()
        p.standardError = errors
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        let (pixels, width) = try decodePNG(Array(try Data(contentsOf: png)))
        return (pixels, width, text.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init))
    }

    func testChromiumRendersTheReportWithoutConsoleErrors() throws {
        _ = try chromium()
        let run = try trainedRun()
        XCTAssertEqual(try runSpikefuse(["report", run.path]).status, 0)
        let png = Self.root.appendingPathComponent("report.png")
        let (pixels, width, console) = try render(run.appendingPathComponent("report.html"), to: png, height: 2400)
        XCTAssertEqual(console, [], "console messages")
        XCTAssertEqual(width, 1400)
        // Not blank: many pixels away from white, and the palette's blue (curves) among them.
        let n = pixels.count / 3
        let inked = (0..<n).filter { pixels[3 * $0] < 200 || pixels[3 * $0 + 1] < 200 || pixels[3 * $0 + 2] < 200 }.count
        XCTAssertGreaterThan(Double(inked) / Double(n), 0.02, "the screenshot is (nearly) blank")
        let blue = (0..<n).contains { pixels[3 * $0] == 0x1f && pixels[3 * $0 + 1] == 0x77 && pixels[3 * $0 + 2] == 0xb4 }
        XCTAssertTrue(blue, "no curve drawn in the palette's first colour")
    }

    /// The console check can fail: a page that loads an image from the network is reported.
    func testConsoleCheckCatchesAnExternalLoad() throws {
        _ = try chromium()
        let page = Self.root.appendingPathComponent("external.html")
        try FileManager.default.createDirectory(at: Self.root, withIntermediateDirectories: true)
        let html = RunReport.page(title: "t", summary: "s", sections: [.init("x", "<img src=\"http://127.0.0.1:9/x.png\">")])
        try Data(html.utf8).write(to: page)
        let (_, _, console) = try render(page, to: Self.root.appendingPathComponent("external.png"), height: 300)
        XCTAssertEqual(console.count, 1, "\(console)")
        XCTAssertTrue(console.first?.contains("Content Security Policy") == true, "\(console)")
    }

    /// The RGB pixels and width of an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes).
    private func decodePNG(_ bytes: [UInt8]) throws -> ([UInt8], Int) {
        XCTAssertEqual(Array(bytes.prefix(8)), PNG.signature)
        var i = 8, width = 0, height = 0, channels = 0, idat: [UInt8] = []
        func be32(_ j: Int) -> Int { Int(bytes[j]) << 24 | Int(bytes[j + 1]) << 16 | Int(bytes[j + 2]) << 8 | Int(bytes[j + 3]) }
        while i + 8 <= bytes.count {
            let length = be32(i), type = String(decoding: bytes[(i + 4)..<(i + 8)], as: UTF8.self)
            let body = Array(bytes[(i + 8)..<(i + 8 + length)])
            if type == "IHDR" {
                width = be32(i + 8); height = be32(i + 12)
                guard body[8] == 8, body[12] == 0, [2, 6].contains(body[9]) else { throw XCTSkip("PNG layout not decoded here: \(body)") }
                channels = body[9] == 6 ? 4 : 3
            }
            if type == "IDAT" { idat += body }
            i += 12 + length
        }
        let raw = try _Inflate.inflate(idat, source: "screenshot")
        let stride = width * channels
        var out = [UInt8](repeating: 0, count: width * height * 3), previous = [UInt8](repeating: 0, count: stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            var row = Array(raw[(y * (stride + 1) + 1)..<((y + 1) * (stride + 1))])
            for x in 0..<stride {
                let a = x >= channels ? Int(row[x - channels]) : 0, b = Int(previous[x])
                let c = x >= channels ? Int(previous[x - channels]) : 0
                let predictor: Int
                switch filter {
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                default: predictor = 0
                }
                row[x] = UInt8(truncatingIfNeeded: Int(row[x]) + predictor)
            }
            for x in 0..<width { for k in 0..<3 { out[(y * width + x) * 3 + k] = row[x * channels + k] } }
            previous = row
        }
        return (out, width)
    }
}
