@preconcurrency import Glibc
import EventIO
import Foundation
@testable import Multimodal
import SpikeNN
import SpikeTensor
import XCTest

/// A one-client TCP server on 127.0.0.1 (an ephemeral port) that sends `bytes` in pieces of
/// `piece` bytes and closes, or with `silent` sends nothing and holds the connection.
final class LoopbackServer: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let thread: Thread

    init(bytes: [UInt8], piece: Int = 1500, silent: Bool = false) throws {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, length) == 0 && getsockname(s, $0, &length) == 0 }
        }
        guard bound, listen(s, 1) == 0 else { close(s); throw XCTSkip("cannot listen on 127.0.0.1") }
        listener = s
        port = Int(UInt16(bigEndian: address.sin_port))
        thread = Thread {
            let client = accept(s, nil, nil)
            guard client >= 0 else { return }
            if silent { sleep(5) } else {
                var start = 0
                while start < bytes.count {
                    let end = min(start + piece, bytes.count)
                    _ = bytes[start..<end].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    start = end
                    usleep(200)
                }
            }
            close(client)
        }
        thread.start()
    }

    deinit { close(listener) }

    /// A loopback port nothing listens on (bound, never listened, closed).
    static func unusedPort() -> Int {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, length) == 0 && getsockname(s, $0, &length) == 0 }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// `spikefuse stream --tcp` against dv-processing's captured network stream, replayed on
/// loopback, compared with offline inference on the events dv-processing sent.
final class LiveStreamTests: XCTestCase {
    static let captures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("EventIOTests/Fixtures/aedat4")
    static let description = """
    {"name": "live-small", "timesteps": 8, "classes": 4,
     "branches": [{"name": "visual", "input": {"modality": "dvs", "shape": [2, 16, 16]},
       "neuron": {"tau": 0.8, "threshold": 0.5},
       "layers": [{"type": "conv2d", "name": "conv1", "channels": 8, "kernel": 3, "padding": 1}, {"type": "lif"},
                  {"type": "avgpool2d", "kernel": 2}, {"type": "flatten"},
                  {"type": "linear", "name": "out", "features": 4}, {"type": "lif"}]}]}
    """

    /// The events dv-processing sent (t,x,y,p CSV, 64×48 sensor).
    func sentEvents() throws -> DVSEvents {
        var e = DVSEvents(sensor: SensorSize(width: 64, height: 48))
        let text = try String(contentsOf: Self.captures.appendingPathComponent("dv-network-stream.csv"), encoding: .utf8)
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",").map { Int64($0)! }
            e.append(t: f[0], x: UInt16(f[1]), y: UInt16(f[2]), polarity: UInt8(f[3]))
        }
        return e
    }

    /// A run folder holding the small network with weights scaled so that it spikes.
    func makeRun() throws -> (URL, MultimodalNetwork) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("live-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("net.json")
        try Self.description.write(to: file, atomically: true, encoding: .utf8)
        let model = try ModelConfiguration(network: try NetworkDescription.load(file))
        let network = try MultimodalNetwork(model, seed: 5)
        var scaled: [String: Tensor] = [:]
        for (name, t) in network.namedTensors() {
            var s = t
            for i in s.scalars.indices { s.scalars[i] *= name.hasSuffix("weight") ? 6 : 1 }
            scaled[name] = s
        }
        try network.load(scaled, source: "test")
        let run = dir.appendingPathComponent("run")
        try RunDirectory(run).prepare()
        try RunDirectory(run).writeWeights(network.namedTensors(), model: model, epoch: 1)
        return (dir, network)
    }

    struct Window: Equatable { var window: Int; var start: Int64; var events: Int; var bins: Int; var decision: Int; var spikes: [Int] }

    func windows(_ stdout: String) -> [Window] {
        stdout.split(separator: "\n").filter { $0.hasPrefix("window ") }.map { line in
            let w = line.split(separator: " ", omittingEmptySubsequences: true)
            let spikes = line[line.range(of: "spikes [")!.upperBound...].prefix { $0 != "]" }
                .split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces))! }
            return Window(window: Int(w[1])!, start: Int64(w[3])!, events: Int(w[6])!,
                          bins: Int(w[8].split(separator: "/")[0])!, decision: Int(w[10])!, spikes: spikes)
        }
    }

    /// The windows worked out offline: the sent events cut into windows of 8 × 2000 µs from the
    /// first event, each cropped (48×48 on the centroid), downsampled by 3 and framed like a
    /// training sample, then the time-batched forward pass (not the streaming engine).
    func offline(_ network: MultimodalNetwork, _ events: DVSEvents, lastBins: Int) -> [Window] {
        let t0 = events.t[0], length: Int64 = 8 * 2000
        var byWindow: [Int: [Int]] = [:]
        for i in 0..<events.count { byWindow[Int((events.t[i] - t0) / length), default: []].append(i) }
        let keys = byWindow.keys.sorted()
        return keys.map { k in
            var e = DVSEvents(sensor: events.sensor)
            for i in byWindow[k]! { e.append(t: events.t[i], x: events.x[i], y: events.y[i], polarity: events.polarity[i]) }
            let start = t0 + Int64(k) * length
            let placed = Downsample(factor: 3)(CentroidCrop(width: 48, height: 48)(e))
            let frames = DVSFraming(timesteps: 8, binning: .divideSpan(startMicroseconds: start, durationMicroseconds: length))(placed)
            let out = network.forward(visual: frames.reshaped([8, 1, 2, 16, 16]), audio: nil).visual!   // [T, 1, 4]
            let bins = k == keys.last ? lastBins : 8
            var spikes = [0, 0, 0, 0]
            for t in 0..<bins { for c in 0..<4 where out.scalars[t * 4 + c] != 0 { spikes[c] += 1 } }
            let decision = spikes.indices.reduce(0) { spikes[$1] > spikes[$0] ? $1 : $0 }
            return Window(window: k, start: start, events: e.count, bins: bins, decision: decision, spikes: spikes)
        }
    }

    func testLoopbackStreamDecisionsEqualOfflineInference() throws {
        let (dir, network) = try makeRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let events = try sentEvents()
        // The last window ends inside its bin 7: 7 complete bins are stepped.
        let lastStart = events.t[0] + Int64((events.t.last! - events.t[0]) / 16000) * 16000
        let expected = offline(network, events, lastBins: Int((events.t.last! - lastStart) / 2000))
        XCTAssertEqual(expected.count, 6)
        XCTAssertGreaterThan(Set(expected.map(\.decision)).count, 1, "the windows should not all decide alike")
        XCTAssertGreaterThanOrEqual(expected.filter { $0.spikes.reduce(0, +) > 0 }.count, 4, "\(expected)")
        for capture in ["dv-network-stream.bin", "dv-network-stream-lz4.bin"] {
            let bytes = try Array(Data(contentsOf: Self.captures.appendingPathComponent(capture)))
            let server = try LoopbackServer(bytes: bytes, piece: 999)
            let r = try runSpikefuse(["stream", dir.appendingPathComponent("run").path, "--tcp", "127.0.0.1:\(server.port)",
                                      "--bin-us", "2000", "--timeout", "5"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(windows(r.stdout), expected, capture + "\n" + r.stdout)
            XCTAssertTrue(r.stdout.contains("streams 0 EVTS") && r.stdout.contains("64×48"), r.stdout)
            XCTAssertTrue(r.stdout.contains("stream ended after \(bytes.count) bytes"), r.stdout)
        }
        // --windows stops early; a description file runs with random weights and says so.
        let server = try LoopbackServer(bytes: try Array(Data(contentsOf: Self.captures.appendingPathComponent("dv-network-stream.bin"))))
        let r = try runSpikefuse(["stream", dir.appendingPathComponent("net.json").path, "--tcp", "127.0.0.1:\(server.port)",
                                  "--bin-us", "2000", "--windows", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(windows(r.stdout).map(\.window), [0, 1])
        XCTAssertTrue(r.stdout.contains("RANDOM weights"), r.stdout)
    }

    /// Streaming per step equals the time-batched forward on the same frames (the engine
    /// behind the command, in process).
    func testLiveClassifierEqualsOfflineInferenceInProcess() throws {
        let (dir, network) = try makeRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let events = try sentEvents()
        let framing = LiveFraming.fitting(sensor: events.sensor, input: [2, 16, 16], timesteps: 8, binMicroseconds: 2000)
        XCTAssertEqual(framing, LiveFraming(timesteps: 8, binMicroseconds: 2000, cropWidth: 48, cropHeight: 48, downsample: 3))
        let live = try LiveClassifier(network, framing: framing)
        var progress = 0
        live.onBin = { _, _, _ in progress += 1 }
        var decisions: [LiveDecision] = []
        for start in stride(from: 0, to: events.count, by: 333) {      // chunks that split windows
            let r = start..<min(start + 333, events.count)
            decisions += live.add(DVSEvents(sensor: events.sensor, t: Array(events.t[r]), x: Array(events.x[r]),
                                            y: Array(events.y[r]), polarity: Array(events.polarity[r])))
        }
        decisions += [live.finish()].compactMap { $0 }
        let lastStart = events.t[0] + 5 * 16000
        let expected = offline(network, events, lastBins: Int((events.t.last! - lastStart) / 2000))
        XCTAssertEqual(decisions.map { Window(window: $0.window, start: $0.startMicroseconds, events: $0.events, bins: $0.bins,
                                              decision: $0.decision, spikes: $0.spikeCounts) }, expected)
        XCTAssertEqual(progress, expected.map(\.bins).reduce(0, +))
        // A network whose input the framing does not give is refused, naming both shapes.
        XCTAssertThrowsError(try LiveClassifier(network, framing: LiveFraming(timesteps: 8, binMicroseconds: 2000,
                                                                              cropWidth: 32, cropHeight: 32))) {
            XCTAssertTrue("\($0)".contains("[8, 2, 16, 16]") && "\($0)".contains("[8, 2, 32, 32]"), "\($0)")
        }
    }

    /// Refused, stalled, cut and garbled streams: one line naming host:port (and the offset), no hang.
    func testBrokenStreamsGiveClearErrors() throws {
        let (dir, _) = try makeRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run").path
        let bytes = try Array(Data(contentsOf: Self.captures.appendingPathComponent("dv-network-stream.bin")))
        func stream(_ server: LoopbackServer, _ extra: [String] = []) throws -> ToolResult {
            try runSpikefuse(["stream", run, "--tcp", "127.0.0.1:\(server.port)", "--bin-us", "2000", "--timeout", "1"] + extra)
        }
        func oneLine(_ r: ToolResult, _ texts: [String], line: UInt = #line) {
            XCTAssertNotEqual(r.status, 0, line: line)
            let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("spikefuse stream:") }
            XCTAssertEqual(lines.count, 1, r.stderr, line: line)
            for t in texts { XCTAssertTrue(r.stderr.contains(t), "\(t) not in: \(r.stderr)", line: line) }
        }
        // Nothing listening: a port bound for a moment, then closed.
        let port = LoopbackServer.unusedPort()
        let refused = try runSpikefuse(["stream", run, "--tcp", "127.0.0.1:\(port)", "--bin-us", "2000", "--timeout", "1"])
        oneLine(refused, ["tcp 127.0.0.1:\(port)", "cannot connect"])
        // Connected, nothing sent.
        let silent = try LoopbackServer(bytes: [], silent: true)
        oneLine(try stream(silent), ["tcp 127.0.0.1:\(silent.port)", "no data for 1.0 s"])
        // Cut inside the fourth packet.
        let cut = try LoopbackServer(bytes: Array(bytes[0..<10000]))
        oneLine(try stream(cut), ["tcp 127.0.0.1:\(cut.port)", "truncated at byte offset", "inside a packet"])
        // A garbled header.
        var garbled = bytes; garbled[8] = UInt8(ascii: "X")
        let bad = try LoopbackServer(bytes: garbled)
        oneLine(try stream(bad), ["tcp 127.0.0.1:\(bad.port)", "XOHE", "byte offset 8"])
        // Usage mistakes.
        oneLine(try runSpikefuse(["stream", run, "--tcp", "localhost"]), ["HOST:PORT"])
        oneLine(try runSpikefuse(["stream", run, "--tcp", "127.0.0.1:1", "--file", "x.aedat4"]), ["one of --tcp"])
        let noBin = try LoopbackServer(bytes: bytes)
        oneLine(try runSpikefuse(["stream", run, "--tcp", "127.0.0.1:\(noBin.port)"]), ["--bin-us"])
    }

    /// `--file` replays an AEDAT 4.0 file through the same stream decoder.
    func testFileReplayGivesTheSameDecisionsAsTheStream() throws {
        let (dir, _) = try makeRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run").path
        let bytes = try Array(Data(contentsOf: Self.captures.appendingPathComponent("dv-network-stream.bin")))
        let file = dir.appendingPathComponent("same.aedat4")
        try Data(Array("#!AER-DAT4.0\r\n".utf8) + bytes).write(to: file)
        let replay = try runSpikefuse(["stream", run, "--file", file.path, "--bin-us", "2000"])
        XCTAssertEqual(replay.status, 0, replay.stderr)
        let server = try LoopbackServer(bytes: bytes)
        let live = try runSpikefuse(["stream", run, "--tcp", "127.0.0.1:\(server.port)", "--bin-us", "2000"])
        XCTAssertEqual(windows(replay.stdout), windows(live.stdout))
        XCTAssertEqual(windows(replay.stdout).count, 6)
    }
}
