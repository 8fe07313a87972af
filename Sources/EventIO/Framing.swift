import SpikeTensor

/// What a frame cell holds.
public enum FrameValue: Sendable, Equatable {
    /// 1 where at least one event fell in the cell, else 0 (the paper's Input layer).
    case binary
    /// The number of events that fell in the cell.
    case count
}

/// How event times map to the T timesteps of a frame tensor.
///
/// With t0 the earliest and t1 the latest event time (µs; the first and last event of a
/// time-sorted stream):
///
/// - `divideRecording`: T equal bins over [t0, t1]:
///   `bin(t) = floor((t − t0) · T / (t1 − t0 + 1))`, always in 0..<T (the +1 makes the span
///   half-open, [t0, t1 + 1), so the last event lands in bin T − 1 and no event is dropped).
///   Example: T = 4, times 0, 10, 19, 20 µs → span 21 → bins 0, 1, 3, 3.
/// - `divideSpan(startMicroseconds: s, durationMicroseconds: d)`: T equal bins over the
///   fixed window [s, s + d): `bin(t) = floor((t − s) · T / d)`; events outside are dropped.
/// - `fixedDuration(microseconds: d)`: bin k = [t0 + k·d, t0 + (k+1)·d), i.e.
///   `bin(t) = floor((t − t0) / d)`; events with bin ≥ T (after T·d µs) are dropped.
/// - `divideTrimmedRecording(percent: p)`: like `divideRecording`, but over [lo, hi], the
///   p-th and (100 − p)-th percentiles of the recording's event times instead of its first and
///   last event: with s the n times sorted and m = ⌊(n − 1)·p / 100⌋, lo = s[m], hi = s[n − 1 − m],
///   `bin(t) = floor((t − lo) · T / (hi − lo + 1))`; the events before lo or after hi (about
///   p % at each end) are dropped. p = 0 is `divideRecording`. Example: p = 5, T = 2, 21 events
///   at 0, 100, 101, …, 118, 900 µs: m = ⌊20·5/100⌋ = 1, lo = 100, hi = 118, so 0 and 900 are
///   dropped, 100…109 fall in bin 0 and 110…118 in bin 1. Why: one stray event (sensor noise)
///   before or after an utterance stretches `divideRecording`'s span and squeezes the
///   utterance into a few bins (docs/model.md, issue 43).
public enum TimeBinning: Sendable, Equatable {
    case divideRecording
    case divideSpan(startMicroseconds: Int64, durationMicroseconds: Int64)
    case fixedDuration(microseconds: Int64)
    case divideTrimmedRecording(percent: Int)
}

/// Maps times to bins by a `TimeBinning` rule; integer maths, exact.
struct _TimeBinner {
    // bin(t) = (t − origin) · numerator / denominator  when `scaled`, else (t − origin) / denominator
    let origin: Int64
    let denominator: Int64
    let timesteps: Int64
    let scaled: Bool
    /// True when (t − origin) · T cannot overflow Int64 for any t in range.
    let fitsInt64: Bool

    /// A binner over the earliest…latest of `times` (which must not be empty), or over their
    /// percentiles for `divideTrimmedRecording`.
    init(_ binning: TimeBinning, timesteps: Int, times: [Int64]) {
        if case .divideTrimmedRecording(let p) = binning, p > 0 {
            let (lo, hi) = _TimeBinner.trimmedSpan(times, percent: p)
            self.init(.divideRecording, timesteps: timesteps, first: lo, last: hi)
            return
        }
        var first = times[0], last = times[0]
        times.withUnsafeBufferPointer { ts in
            for t in ts { first = min(first, t); last = max(last, t) }
        }
        self.init(binning, timesteps: timesteps, first: first, last: last)
    }

    /// (s[m], s[n − 1 − m]) with s the sorted times, m = ⌊(n − 1)·p / 100⌋ (p clamped to 0…49).
    static func trimmedSpan(_ times: [Int64], percent: Int) -> (lo: Int64, hi: Int64) {
        let sorted = times.sorted()
        let m = (sorted.count - 1) * min(max(percent, 0), 49) / 100
        return (sorted[m], sorted[sorted.count - 1 - m])
    }

    init(_ binning: TimeBinning, timesteps: Int, first: Int64, last: Int64) {
        self.timesteps = Int64(timesteps)
        switch binning {
        case .divideRecording, .divideTrimmedRecording:   // first, last: the (trimmed) span's ends
            let (span, overflow) = last.subtractingReportingOverflow(first)
            origin = first; denominator = overflow || span == .max ? .max : span + 1; scaled = true
        case .divideSpan(let start, let duration):
            origin = start; denominator = max(1, duration); scaled = true
        case .fixedDuration(let d):
            origin = first; denominator = max(1, d); scaled = false
        }
        // Only times with 0 ≤ t − origin < denominator are scaled, so the product is
        // < denominator · T; (denominator + 1) · T also bounds binStart's numerator.
        fitsInt64 = denominator < Int64.max / (self.timesteps + 1)
    }

    /// First offset t − origin of bin k (0 ≤ k ≤ T), when `fitsInt64`:
    /// scaled: ⌈k · denominator / T⌉ (bin(dt) ≥ k ⟺ dt · T ≥ k · denominator); else k · denominator.
    @inline(__always) func binStart(_ k: Int64) -> Int64 {
        scaled ? (k * denominator + timesteps - 1) / timesteps : k * denominator
    }

    /// The bin of time t, or nil when t falls outside the T bins (one division).
    @inline(__always) func bin(_ t: Int64) -> Int? {
        let (dt, overflow) = t.subtractingReportingOverflow(origin)
        guard !overflow, dt >= 0 else { return nil }
        if scaled {
            guard dt < denominator else { return nil }
            if fitsInt64 { return Int(dt * timesteps / denominator) }
            let product = dt.multipliedFullWidth(by: timesteps)
            return Int(denominator.dividingFullWidth((product.high, product.low)).quotient)
        }
        let k = dt / denominator
        return k < timesteps ? Int(k) : nil
    }
}

/// Bins a stream time by time, reusing the current bin's bounds while times stay inside it,
/// so a time-sorted stream costs one division per bin instead of one per event. Gives exactly
/// `_TimeBinner.bin` for any order of times.
struct _BinCursor {
    let binner: _TimeBinner
    var bin = 0
    var low: Int64 = 0, high: Int64 = -1   // current bin covers origin + [low, high)

    init(_ binner: _TimeBinner) { self.binner = binner }

    @inline(__always) mutating func next(_ t: Int64) -> Int? {
        let dt = t &- binner.origin
        // Fast path: same bin as the previous time (no overflow possible: low ≤ dt < high).
        if t >= binner.origin, dt >= low, dt < high { return bin }
        guard let k = binner.bin(t) else { return nil }
        bin = k
        if binner.fitsInt64 {
            low = binner.binStart(Int64(k)); high = binner.binStart(Int64(k) + 1)
        }
        return k
    }
}

/// DVS events → frame tensor `[T, P, H, W]`: P = 2 polarity channels (channel 0 = ON,
/// channel 1 = OFF) or P = 1 when `mergePolarity`; H, W = the events' sensor height, width.
///
/// Cell (k, p, y, x) holds 1 (`.binary`) or the count (`.count`) of events with
/// bin(t) = k (see `TimeBinning`), pixel (x, y), channel p. Events outside the sensor or the
/// T bins are ignored. Empty streams give all zeros.
///
/// ```swift
/// let frames = DVSFraming(timesteps: 64)(events)   // [64, 2, 128, 128]
/// ```
public struct DVSFraming: Sendable, Equatable {
    public var timesteps: Int
    public var binning: TimeBinning
    public var value: FrameValue
    public var mergePolarity: Bool

    public init(timesteps: Int, binning: TimeBinning = .divideRecording, value: FrameValue = .binary,
                mergePolarity: Bool = false) {
        precondition(timesteps >= 1, "DVSFraming: timesteps must be ≥ 1")
        self.timesteps = timesteps; self.binning = binning; self.value = value; self.mergePolarity = mergePolarity
    }

    /// `[T, P, H, W]` of the frames of a recording from `sensor`.
    public func shape(for sensor: SensorSize) -> [Int] {
        [timesteps, mergePolarity ? 1 : 2, sensor.height, sensor.width]
    }

    public func callAsFunction(_ events: DVSEvents) -> Tensor {
        let width = max(0, events.sensor.width), height = max(0, events.sensor.height)
        let channels = mergePolarity ? 1 : 2
        var frames = Tensor(zeros: [timesteps, channels, height, width])   // [T, P, H, W]
        let n = events.count
        guard n > 0, width > 0, height > 0 else { return frames }
        var cursor = _BinCursor(_TimeBinner(binning, timesteps: timesteps, times: events.t))
        let plane = height * width, frameSize = channels * plane
        let binary = value == .binary, merge = mergePolarity
        events.t.withUnsafeBufferPointer { t in
        events.x.withUnsafeBufferPointer { xs in
        events.y.withUnsafeBufferPointer { ys in
        events.polarity.withUnsafeBufferPointer { ps in
        frames.scalars.withUnsafeMutableBufferPointer { out in
            for i in 0..<n {
                let x = Int(xs[i]), y = Int(ys[i])
                guard x < width, y < height, let k = cursor.next(t[i]) else { continue }
                let channel = merge ? 0 : (ps[i] != 0 ? 0 : 1)   // ON → 0, OFF → 1
                let index = k * frameSize + channel * plane + y * width + x
                if binary { out[index] = 1 } else { out[index] += 1 }
            }
        }}}}}
        return frames
    }
}

/// Cochlea events → frame tensor `[T, C]`, C = `channelCount` of the events.
///
/// Cell (k, c) holds 1 (`.binary`) or the count (`.count`) of events of channel c with
/// bin(t) = k (see `TimeBinning`). Channels ≥ C and times outside the bins are ignored.
public struct CochleaFraming: Sendable, Equatable {
    public var timesteps: Int
    public var binning: TimeBinning
    public var value: FrameValue

    public init(timesteps: Int, binning: TimeBinning = .divideRecording, value: FrameValue = .binary) {
        precondition(timesteps >= 1, "CochleaFraming: timesteps must be ≥ 1")
        self.timesteps = timesteps; self.binning = binning; self.value = value
    }

    public func callAsFunction(_ events: CochleaEvents) -> Tensor {
        let channels = max(0, events.channelCount)
        var frames = Tensor(zeros: [timesteps, channels])   // [T, C]
        let n = events.count
        guard n > 0, channels > 0 else { return frames }
        var cursor = _BinCursor(_TimeBinner(binning, timesteps: timesteps, times: events.t))
        let binary = value == .binary
        events.t.withUnsafeBufferPointer { t in
        events.channel.withUnsafeBufferPointer { cs in
        frames.scalars.withUnsafeMutableBufferPointer { out in
            for i in 0..<n {
                let c = Int(cs[i])
                guard c < channels, let k = cursor.next(t[i]) else { continue }
                if binary { out[k * channels + c] = 1 } else { out[k * channels + c] += 1 }
            }
        }}}
        return frames
    }
}
