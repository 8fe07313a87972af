import EventIO
import Foundation
import SpikeNN
import SpikeTensor

/// The decision on one window of a live stream (see `LiveFraming`): the visual head's output
/// spikes counted over the bins stepped so far, and the class with the most (ties → lowest,
/// as in evaluation; class 0 when there are none).
public struct LiveDecision: Sendable, Equatable {
    /// Window k: it starts at t₀ + k·T·d µs. Windows without events are skipped.
    public var window: Int
    public var startMicroseconds: Int64
    /// Events of the stream in the window.
    public var events: Int
    /// Bins stepped: T, or fewer for a window the stream left unfinished (never after a bin
    /// that has not ended: a partial window is stepped only over its complete bins).
    public var bins: Int
    /// Output spikes `[C]` of the visual head, summed over the bins stepped.
    public var spikeCounts: [Int]
    public var decision: Int {
        spikeCounts.indices.reduce(0) { spikeCounts[$1] > spikeCounts[$0] ? $1 : $0 }
    }
}

/// Classifies a live DVS stream with a network's visual branch, window by window, with the
/// streaming per-step engine (`StreamingInference`): each window is framed as a training sample
/// (`LiveFraming`), the network starts from rest, and steps its T bins one by one, so the
/// running decision is known after every bin (`onBin`). A network with a cochlea branch too
/// gets silence (zero frames) on it; the decision is its visual head's.
///
/// ```swift
/// let live = LiveClassifier(network, framing: framing)
/// for chunk in stream { for d in live.add(chunk) { print(d.window, d.decision) } }
/// if let last = live.finish() { … }               // the unfinished last window
/// ```
public final class LiveClassifier {
    public let network: MultimodalNetwork
    public let framing: LiveFraming
    /// Called after each bin: (window, bins stepped, spike counts so far).
    public var onBin: ((Int, Int, [Int]) -> Void)?
    private let engine: StreamingInference
    private let silence: [Float]
    private var origin: Int64?
    private var window = 0
    private var pending: DVSEvents?
    private var latest = Int64.min

    /// `network` must have a dvs branch whose input `[P, H, W]` is `framing.frameShape` and T
    /// its timesteps (a `ConfigurationError` says which differs).
    public init(_ network: MultimodalNetwork, framing: LiveFraming) throws {
        let c = network.configuration
        guard network.visual != nil else {
            throw ConfigurationError.invalid("the network has no dvs branch: a live DVS stream cannot feed it")
        }
        guard c.visualFrameShape == framing.frameShape, c.timesteps == framing.timesteps else {
            throw ConfigurationError.invalid("the network's dvs input [T, P, H, W] is \([c.timesteps] + c.visualFrameShape), "
                + "the live framing gives \([framing.timesteps] + framing.frameShape)")
        }
        self.network = network
        self.framing = framing
        engine = StreamingInference(network, batch: 1)
        silence = [Float](repeating: 0, count: network.audio == nil ? 0 : c.audioChannels)
    }

    /// Takes the next events of the stream (time-sorted, after every earlier one); returns the
    /// decisions of the windows they close.
    public func add(_ events: DVSEvents) -> [LiveDecision] {
        guard !events.isEmpty else { return [] }
        precondition(events.t.first! >= latest, "LiveClassifier: events must come in time order")
        latest = events.t.last!
        let length = framing.windowMicroseconds
        if origin == nil { origin = events.t[0] }
        var out: [LiveDecision] = []
        var from = 0
        while from < events.count {
            let start = origin! + Int64(window) * length
            let end = start + length
            // Events of the current window in this chunk: [from, upTo).
            var upTo = from
            while upTo < events.count && events.t[upTo] < end { upTo += 1 }
            if upTo > from { append(events, from..<upTo) }
            guard upTo < events.count else { break }
            if let decision = classify(start: start, bins: framing.timesteps) { out.append(decision) }
            // The next window with events (empty windows are skipped).
            window = Int((events.t[upTo] - origin!) / length)
            from = upTo
        }
        return out
    }

    /// At the end of the stream: the decision on the unfinished last window, over its bins
    /// that ended by the last event's time (nil when it has no events or no complete bin).
    public func finish() -> LiveDecision? {
        guard let origin, pending != nil else { return nil }
        let start = origin + Int64(window) * framing.windowMicroseconds
        let complete = Int((latest - start) / framing.binMicroseconds)   // bins ended before `latest`
        guard complete >= 1 else { pending = nil; return nil }
        return classify(start: start, bins: min(complete, framing.timesteps))
    }

    private func append(_ events: DVSEvents, _ range: Range<Int>) {
        var p = pending ?? DVSEvents(sensor: events.sensor)
        p.t += events.t[range]; p.x += events.x[range]; p.y += events.y[range]; p.polarity += events.polarity[range]
        pending = p
    }

    /// Frames the pending window and steps the network over its first `bins` bins.
    private func classify(start: Int64, bins: Int) -> LiveDecision? {
        guard let events = pending else { return nil }
        pending = nil
        let frames = framing.frames(events, start: start)          // [T, P, H, W]
        let frameSize = framing.frameShape.reduce(1, *)
        let classes = network.configuration.classes
        var counts = [Int](repeating: 0, count: classes)
        engine.reset()
        frames.withPointer { x in
            silence.withUnsafeBufferPointer { a in
                for t in 0..<bins {
                    engine.step(visual: x + t * frameSize, audio: network.audio == nil ? nil : a.baseAddress!)
                    for (c, s) in engine.visualSpikes.enumerated() where s != 0 { counts[c] += 1 }
                    onBin?(window, t + 1, counts)
                }
            }
        }
        return LiveDecision(window: window, startMicroseconds: start, events: events.count, bins: bins, spikeCounts: counts)
    }
}
