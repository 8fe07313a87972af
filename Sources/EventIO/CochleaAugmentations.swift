import Foundation
import SpikeTensor

/// Random augmentations of silicon-cochlea events (`CochleaEvents`: t in µs, channel
/// 0..<channelCount), for training the auditory branch (`train --augment adrop=…,ashift=…,acrop=…`).
///
/// Every stage takes time-ordered events on their channels and returns time-ordered events on
/// the same `channelCount`; it only ever removes or relabels events (never adds). Randomness
/// comes only from the `SeededGenerator` passed in, through the integer and [0, 1) draws of
/// EventAugmentations.swift, so the same seed gives bit-identical output on every platform.
///
/// Why these three: the A-Network frames each recording's own first-to-last-event span into
/// T bins (`CochleaFraming`, `.divideRecording`), so a global time stretch or offset is
/// normalised away and changes nothing; what a speaker or a recording varies, and the
/// framing keeps, is loudness (the cochlea's event count), pitch (the channels) and where the
/// span's ends fall (a stray early or late event moves every bin).
public protocol CochleaAugmentation: Sendable {
    func callAsFunction(_ events: CochleaEvents, using rng: inout SeededGenerator) -> CochleaEvents
}

/// Cochlea stages applied first to last, drawing from one generator.
public struct CochleaAugmentationPipeline: CochleaAugmentation {
    public var stages: [any CochleaAugmentation]
    public init(_ stages: [any CochleaAugmentation]) { self.stages = stages }
    public func callAsFunction(_ events: CochleaEvents, using rng: inout SeededGenerator) -> CochleaEvents {
        var out = events
        for stage in stages { out = stage(out, using: &rng) }
        return out
    }
}

/// A loudness change: draws one rate r uniform in [0, maximumRate) per call, then drops each
/// event independently with probability r (keeps it with 1 − r), in order. maximumRate 0
/// keeps every event. Draws one number, then one per event.
public struct RandomEventDrop: CochleaAugmentation, Equatable {
    /// The largest drop probability, 0…1.
    public var maximumRate: Double
    public init(maximumRate: Double) {
        precondition(maximumRate >= 0 && maximumRate <= 1, "RandomEventDrop: maximumRate must be in 0…1")
        self.maximumRate = maximumRate
    }
    public func callAsFunction(_ events: CochleaEvents, using rng: inout SeededGenerator) -> CochleaEvents {
        let rate = maximumRate * rng.unitInterval()
        return events._filtered { _ in rng.unitInterval() >= rate }
    }
}

/// A pitch change: draws one whole shift s uniform in −maximum…maximum channels per call and
/// moves every event from channel c to c + s; events moved off 0..<channelCount are dropped.
/// Times unchanged. Draws one number.
public struct RandomChannelShift: CochleaAugmentation, Equatable {
    /// The largest shift in channels (≥ 0).
    public var maximum: Int
    public init(maximum: Int) {
        precondition(maximum >= 0, "RandomChannelShift: maximum must be ≥ 0")
        self.maximum = maximum
    }
    public func callAsFunction(_ events: CochleaEvents, using rng: inout SeededGenerator) -> CochleaEvents {
        let s = Int(rng.below(UInt64(2 * maximum + 1))) - maximum
        return ChannelShift(by: s)(events)
    }
}

/// Moves every event from channel c to c + shift; events off 0..<channelCount are dropped.
public struct ChannelShift: Sendable, Equatable {
    public var shift: Int
    public init(by shift: Int) { self.shift = shift }
    public func callAsFunction(_ events: CochleaEvents) -> CochleaEvents {
        guard shift != 0 else { return events }
        var out = CochleaEvents(channelCount: events.channelCount)
        out.t.reserveCapacity(events.count); out.channel.reserveCapacity(events.count)
        for i in 0..<events.count {
            let c = Int(events.channel[i]) + shift
            if c >= 0, c < events.channelCount { out.append(t: events.t[i], channel: UInt16(c)) }
        }
        return out
    }
}

/// A random crop of the span's ends: with span = t_last − t_first (µs), draws a, b uniform in
/// [0, maximumFraction) (a first) and keeps the events with t_first + a·span ≤ t ≤
/// t_last − b·span. As the framing divides the kept span into T bins, this stretches and
/// moves the recording by up to maximumFraction of its length at each end. maximumFraction
/// is below 0.5, so the window is never empty (the middle event time always stays).
/// Channels unchanged. Draws two numbers (none for fewer than two events).
public struct RandomSpanCrop: CochleaAugmentation, Equatable {
    /// The largest fraction of the span cut at each end, 0 ≤ f < 0.5.
    public var maximumFraction: Double
    public init(maximumFraction: Double) {
        precondition(maximumFraction >= 0 && maximumFraction < 0.5, "RandomSpanCrop: maximumFraction must be in 0..<0.5")
        self.maximumFraction = maximumFraction
    }
    public func callAsFunction(_ events: CochleaEvents, using rng: inout SeededGenerator) -> CochleaEvents {
        guard let first = events.t.first, let last = events.t.last, events.count > 1 else { return events }
        let span = Double(last - first)
        let a = maximumFraction * rng.unitInterval(), b = maximumFraction * rng.unitInterval()
        let lo = first + Int64((a * span).rounded(.down)), hi = last - Int64((b * span).rounded(.down))
        let start = events.t.partitioningIndex { $0 >= lo }, end = events.t.partitioningIndex { $0 > hi }
        return CochleaEvents(channelCount: events.channelCount, t: Array(events.t[start..<end]),
                             channel: Array(events.channel[start..<end]))
    }
}

extension Array where Element == Int64 {
    /// The first index whose element satisfies `belongs` (the array partitioned: false…, true…).
    func partitioningIndex(where belongs: (Int64) -> Bool) -> Int {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if belongs(self[mid]) { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}
