import EventIO
import Foundation
import Multimodal

/// `spikefuse stream NETWORK_OR_RUN --tcp HOST:PORT`: a live DV event stream classified
/// window by window with the streaming per-step engine (docs/live.md).
enum StreamCommand {
    static let command = Command(summary: "classify a live DV event stream (TCP, AEDAT 4.0) as it arrives", run: run)

    static let help = """
    usage: spikefuse stream NETWORK_OR_RUN (--tcp HOST:PORT | --file FILE.aedat4) [--bin-us D]
                            [--timeout S] [--windows N]

      NETWORK_OR_RUN  a run directory or weights file (its trained network; a run's joint-data
                      framing: crop, downsampling, values, bin length), or a network description
                      (file.json, paper-visual …) with random weights (seed 0: its decisions mean
                      nothing until trained)
      --tcp HOST:PORT the DV software's network output server (or dv-processing's NetworkWriter):
                      an AEDAT 4.0 stream, its event stream read, other streams skipped
      --file F        replay an AEDAT 4.0 file through the same stream decoder, as if live
      --bin-us D      time bin length d in µs (default: the run's fixedDuration bins; needed
                      when the run framed whole recordings, and for a description or weights file)
      --timeout S     seconds to wait for the connection and then for each piece of data (10)
      --windows N     stop after N windows

    The stream is cut into windows of T bins of d µs from its first event; each window is
    framed as one training sample (centroid crop, downsampling to the network's input, T bins)
    and the network's visual branch steps through its bins from rest. Prints one line per
    window: window K  start µs  events  bins B/T  class C  spikes [per class]
    (class = most output spikes, ties → lowest), and the running decision after each bin on
    standard error.
    """

    static func run(_ arguments: [String]) throws {
        var a = Arguments(arguments)
        if a.wantsHelp { print(help); return }
        let tcp = try a.string("tcp"), file = try a.string("file")
        let binUs = try a.int("bin-us")
        let timeout = try a.double("timeout") ?? 10
        let windows = try positiveLimit(&a, "windows")
        try a.finish()
        guard a.positional.count == 1, let target = a.positional.first else { throw UsageError("stream needs one NETWORK_OR_RUN") }
        guard (tcp == nil) != (file == nil) else { throw UsageError("stream needs one of --tcp HOST:PORT and --file FILE.aedat4") }
        if let binUs { guard binUs >= 1 else { throw UsageError("--bin-us must be at least 1 µs (got \(binUs))") } }
        guard timeout > 0 else { throw UsageError("--timeout must be a positive number of seconds") }
        let live = try LiveTarget(target, binMicroseconds: binUs.map(Int64.init))
        print(live.summary)

        var session = Session(live: live, windows: windows)
        if let tcp {
            let (host, port) = try TCPConnection.address(tcp)
            let connection = try TCPConnection(host: host, port: port, timeout: timeout)
            session.decoder = AEDAT4StreamDecoder(source: connection.name)
            while true {
                let chunk = try connection.read(timeout: timeout)
                if chunk.isEmpty { break }                           // the server closed the stream
                guard try session.consume(chunk) else { return }
            }
        } else if let file {
            let url = URL(fileURLWithPath: file)
            let recording = try AEDAT4.readRecording(url)            // the whole file must read
            let bytes = try Data(contentsOf: url)
            // The stream is the file without its version line and FTAB, fed in 4 KiB pieces.
            let stream = bytes[(AEDAT4.versionLine.utf8.count + 2)..<recording.packetsEnd]
            session.decoder = AEDAT4StreamDecoder(source: url.path)
            var start = stream.startIndex
            while start < stream.endIndex {
                let end = min(start + 4096, stream.endIndex)
                guard try session.consume(Array(stream[start..<end])) else { return }
                start = end
            }
        }
        try session.end()
    }

    /// One stream's decoding and classification.
    struct Session {
        let live: LiveTarget
        let windows: Int?
        var decoder = AEDAT4StreamDecoder(source: "")
        var classifier: LiveClassifier?
        var decided = 0
        let status = StatusLine()

        init(live: LiveTarget, windows: Int?) { self.live = live; self.windows = windows }

        /// Decodes `chunk`, classifies the windows it closes; false once `windows` are done.
        mutating func consume(_ chunk: [UInt8]) throws -> Bool {
            let events = try decoder.feed(chunk)
            if classifier == nil, let sensor = decoder.sensor {
                let c = try LiveClassifier(live.network, framing: try live.framing(sensor: sensor, source: decoder.source))
                let status = status, classes = live.network.configuration.classes
                c.onBin = { window, bin, counts in
                    let best = counts.indices.reduce(0) { counts[$1] > counts[$0] ? $1 : $0 }
                    status.update("window \(window) bin \(bin)/\(c.framing.timesteps): class \(best) (\(counts.reduce(0, +)) spikes in \(classes) classes)")
                }
                classifier = c
                print(describe(c.framing, sensor: sensor))
            }
            for d in classifier?.add(events) ?? [] {
                print(line(d))
                decided += 1
                if let windows, decided >= windows { status.finish(); return false }
            }
            return true
        }

        /// At the end of the stream: an error when it stopped inside a packet, else the last,
        /// unfinished window's decision over its complete bins.
        mutating func end() throws {
            try decoder.finish()
            status.finish()
            if let d = classifier?.finish() { print(line(d) + "  (the stream ended inside this window)") }
            print("stream ended after \(decoder.offset) bytes, \(decoder.packets) packets (\(decoder.skippedPackets) of other streams skipped)")
        }

        func line(_ d: LiveDecision) -> String {
            "window \(d.window)  start \(d.startMicroseconds) µs  events \(d.events)  bins \(d.bins)/\(live.network.configuration.timesteps)"
                + "  class \(d.decision)  spikes \(d.spikeCounts)" + (d.spikeCounts.allSatisfy { $0 == 0 } ? " (no output spikes)" : "")
        }

        func describe(_ f: LiveFraming, sensor: SensorSize) -> String {
            let streams = decoder.streams.keys.sorted().map { "\($0) \(decoder.streams[$0]!)" }.joined(separator: ", ")
            return "\(decoder.source): streams \(streams); events of stream \(decoder.eventStreamID ?? 0) from a \(sensor) sensor; "
                + "windows of \(f.timesteps) bins × \(f.binMicroseconds) µs; centroid crop \(f.cropWidth)×\(f.cropHeight), "
                + "downsample \(f.downsample) → [\(f.frameShape.map(String.init).joined(separator: ", "))]"
        }
    }
}

/// The network a stream is classified with, and the training framing it comes with.
struct LiveTarget {
    let network: MultimodalNetwork
    /// The joint dataset's settings the run was trained on (nil: a description, a weights file,
    /// or other data); they fix the crop, downsampling, values and bins.
    let training: JointDatasetConfiguration?
    let binMicroseconds: Int64?
    let summary: String

    init(_ target: String, binMicroseconds: Int64?) throws {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory)
        if exists && (isDirectory.boolValue || target.hasSuffix(".safetensors")) {
            let trained = try TrainedNetwork(target)
            network = trained.network
            if let run = trained.run, case .joint(let c)? = try? run.readDataSource() { training = c } else { training = nil }
            summary = "network: \(target), trained (\(trained.weightsURL.path))"
        } else {
            let description = try NetworkOption.load(target)
            network = try MultimodalNetwork(try ModelConfiguration(network: description), seed: 0)
            training = nil
            summary = "network: \(target), RANDOM weights (seed 0, not trained): its decisions mean nothing"
        }
        guard network.visual != nil else {
            throw UsageError("\(target): the network has no dvs branch, so a DVS stream cannot feed it")
        }
        if binMicroseconds == nil, let c = training, case .fixedDuration(let d) = c.binning {
            self.binMicroseconds = d
        } else {
            self.binMicroseconds = binMicroseconds
        }
    }

    /// The framing for a stream from `sensor`: the run's joint-data settings, else the crop and
    /// downsampling that fit the sensor onto the network's input.
    func framing(sensor: SensorSize, source: String) throws -> LiveFraming {
        let c = network.configuration
        guard let bin = binMicroseconds else {
            throw UsageError("give --bin-us, the time bin length in µs: "
                + (training == nil ? "a network file does not say how its input was framed"
                                   : "the run framed each whole recording into \(c.timesteps) bins, and a live stream has no end"))
        }
        if let t = training {
            return LiveFraming(timesteps: t.timesteps, binMicroseconds: bin, cropWidth: t.cropSize, cropHeight: t.cropSize,
                               downsample: t.downsample, value: t.value.frameValue, mergePolarity: t.mergePolarity)
        }
        return LiveFraming.fitting(sensor: sensor, input: c.visualFrameShape, timesteps: c.timesteps, binMicroseconds: bin)
    }
}
