import SpikeTensor
/// Event streams from neuromorphic sensors, stored as compact structures of arrays.
///
/// Units: every timestamp is an integer number of microseconds (µs) since the start of
/// the recording (`Int64`, so a 32-bit sensor clock can be unwrapped without overflow).

/// Size of a DVS pixel array, in pixels.
public struct SensorSize: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    public init(width: Int, height: Int) { self.width = width; self.height = height }
    /// The DVS128 sensor behind MNIST-DVS.
    public static let dvs128 = SensorSize(width: 128, height: 128)
    public var description: String { "\(width)×\(height)" }
}

/// DVS events (a dynamic vision sensor): each is (t µs, x, y, polarity).
///
/// `x` counts columns from the left, `y` rows from the top; `polarity` is 1 for ON
/// (brightness rose) and 0 for OFF (brightness fell).
public struct DVSEvents: Sendable, Equatable {
    public var sensor: SensorSize
    /// Timestamps in µs, non-decreasing.
    public var t: [Int64]
    public var x: [UInt16]
    public var y: [UInt16]
    /// 1 = ON, 0 = OFF.
    public var polarity: [UInt8]

    public init(sensor: SensorSize, t: [Int64] = [], x: [UInt16] = [], y: [UInt16] = [],
                polarity: [UInt8] = []) {
        precondition(t.count == x.count && x.count == y.count && y.count == polarity.count,
                     "DVSEvents: field arrays differ in length")
        self.sensor = sensor; self.t = t; self.x = x; self.y = y; self.polarity = polarity
    }

    public var count: Int { t.count }
    public var isEmpty: Bool { t.isEmpty }
    /// Duration from the first to the last event, in µs (0 when empty).
    public var durationMicroseconds: Int64 { (t.last ?? 0) - (t.first ?? 0) }
    public var onCount: Int { polarity.reduce(0) { $0 + Int($1) } }
    public var offCount: Int { count - onCount }

    public mutating func reserveCapacity(_ n: Int) {
        t.reserveCapacity(n); x.reserveCapacity(n); y.reserveCapacity(n); polarity.reserveCapacity(n)
    }

    public mutating func append(t: Int64, x: UInt16, y: UInt16, polarity: UInt8) {
        self.t.append(t); self.x.append(x); self.y.append(y); self.polarity.append(polarity)
    }
}

/// Silicon-cochlea events (e.g. the 64-channel CochleaAMS1b behind N-TIDIGITS): (t µs, channel).
public struct CochleaEvents: Sendable, Equatable {
    /// Number of frequency channels (64 for CochleaAMS1b).
    public var channelCount: Int
    /// Timestamps in µs, non-decreasing.
    public var t: [Int64]
    /// Channel index in 0..<channelCount (0 = lowest centre frequency by convention here).
    public var channel: [UInt16]

    public init(channelCount: Int = 64, t: [Int64] = [], channel: [UInt16] = []) {
        precondition(t.count == channel.count, "CochleaEvents: field arrays differ in length")
        self.channelCount = channelCount; self.t = t; self.channel = channel
    }

    public var count: Int { t.count }
    public var isEmpty: Bool { t.isEmpty }
    public var durationMicroseconds: Int64 { (t.last ?? 0) - (t.first ?? 0) }

    public mutating func append(t: Int64, channel: UInt16) {
        self.t.append(t); self.channel.append(channel)
    }
}
