import Foundation
import SpikeTensor
import EventIO

/// Parameters of the emulated DVS pixel (a DVS128-like dynamic vision sensor).
///
/// Each pixel tracks its log intensity `L(t) = ln(I(t) + ε)` (I in relative luminance,
/// 1 = full white of the stimulus) and remembers a reference level `L_ref` (the value at its
/// last event). It emits
/// - an ON event each time `L(t) − L_ref ≥ θ_on(p)`, then `L_ref ← L_ref + θ_on(p)`;
/// - an OFF event each time `L_ref − L(t) ≥ θ_off(p)`, then `L_ref ← L_ref − θ_off(p)`;
/// where the per-pixel thresholds are `θ(p) = θ_nominal + σ·N(0,1)` (fixed-pattern mismatch,
/// clamped to ≥ 0.2·θ_nominal). After an event the pixel is blind for the refractory period
/// `t_refr` (µs): a crossing inside it is delayed to `t_last + t_refr` (its change is kept,
/// not lost). Between two frames the log intensity is interpolated linearly in time, so
/// several crossings in one frame interval get distinct, interpolated timestamps.
///
/// Background activity: each pixel fires spontaneous events (random polarity) as a Poisson
/// process of rate `backgroundRateHz`; `hotPixelCount` randomly placed hot pixels fire at
/// `hotPixelRateHz` each.
public struct DVSParameters: Sendable, Equatable {
    /// Nominal ON contrast threshold θ_on, in natural-log units (0.25 ≈ 28 % brightness rise).
    public var onThreshold: Float
    /// Nominal OFF contrast threshold θ_off, in natural-log units.
    public var offThreshold: Float
    /// Standard deviation σ of the per-pixel threshold mismatch, log units.
    public var thresholdMismatchSigma: Float
    /// Refractory period after each event, µs.
    public var refractoryMicroseconds: Int64
    /// ε in `ln(I + ε)`, relative luminance; models the dark current (limits contrast in the dark).
    public var logEpsilon: Float
    /// Background-activity (shot-noise) rate per pixel, Hz.
    public var backgroundRateHz: Double
    /// Number of hot pixels on the array.
    public var hotPixelCount: Int
    /// Event rate of each hot pixel, Hz.
    public var hotPixelRateHz: Double

    public init(onThreshold: Float = 0.25, offThreshold: Float = 0.25,
                thresholdMismatchSigma: Float = 0.03, refractoryMicroseconds: Int64 = 500,
                logEpsilon: Float = 0.01, backgroundRateHz: Double = 0.01,
                hotPixelCount: Int = 2, hotPixelRateHz: Double = 2) {
        self.onThreshold = onThreshold; self.offThreshold = offThreshold
        self.thresholdMismatchSigma = thresholdMismatchSigma
        self.refractoryMicroseconds = refractoryMicroseconds; self.logEpsilon = logEpsilon
        self.backgroundRateHz = backgroundRateHz; self.hotPixelCount = hotPixelCount
        self.hotPixelRateHz = hotPixelRateHz
    }

    /// An ideal pixel: no mismatch, no refractory period, no noise (for hand-worked tests).
    public static let ideal = DVSParameters(thresholdMismatchSigma: 0, refractoryMicroseconds: 0,
                                            backgroundRateHz: 0, hotPixelCount: 0)
}

/// A rectangle of pixels `[x0, x0+width) × [y0, y0+height)` on the sensor.
public struct PixelRegion: Sendable, Equatable {
    public var x0: Int, y0: Int, width: Int, height: Int
    public init(x0: Int, y0: Int, width: Int, height: Int) {
        self.x0 = x0; self.y0 = y0; self.width = width; self.height = height
    }
    public var count: Int { width * height }
    /// The region clipped to a sensor (may become empty).
    public func clipped(to sensor: SensorSize) -> PixelRegion {
        let ax = max(0, x0), ay = max(0, y0)
        let bx = min(sensor.width, x0 + width), by = min(sensor.height, y0 + height)
        return PixelRegion(x0: ax, y0: ay, width: max(0, bx - ax), height: max(0, by - ay))
    }
}

/// A grey-level frame: relative luminance (≥ 0) of every pixel, row-major `[H, W]`.
public struct DVSFrame: Sendable {
    /// Time of the frame, µs.
    public var timestamp: Int64
    /// `[H, W]` relative luminance, row 0 at the top.
    public var intensity: [Float]
    public init(timestamp: Int64, intensity: [Float]) {
        self.timestamp = timestamp; self.intensity = intensity
    }
}

/// Errors from emulator inputs (sizes and times that do not fit).
public enum EmulationError: Error, CustomStringConvertible, Equatable {
    case frameSizeMismatch(frame: Int, expected: Int, got: Int)
    case timestampsNotIncreasing(frame: Int)
    case imageSizeMismatch(expected: Int, got: Int)
    case invalidParameter(String)

    public var description: String {
        switch self {
        case let .frameSizeMismatch(f, e, g): return "DVS frame \(f): expected \(e) intensities (H·W), got \(g)"
        case let .timestampsNotIncreasing(f): return "DVS frame \(f): timestamp is not after the previous frame's"
        case let .imageSizeMismatch(e, g): return "image: expected \(e) pixels, got \(g)"
        case let .invalidParameter(s): return "invalid parameter: \(s)"
        }
    }
}

/// The DVS emulator: turns a sequence of frames into DVS events (see `DVSParameters`).
///
/// ```swift
/// var rng = SeededGenerator(seed: 1)
/// let dvs = DVSEmulator(sensor: .dvs128)
/// let events = try dvs.emulate(frames: frames, using: &rng)
/// ```
public struct DVSEmulator: Sendable {
    public var sensor: SensorSize
    public var parameters: DVSParameters

    public init(sensor: SensorSize = .dvs128, parameters: DVSParameters = DVSParameters()) {
        self.sensor = sensor; self.parameters = parameters
    }

    /// Emulates whole-array frames (`frames[k].intensity` is `[H, W]`), plus noise.
    /// The first frame sets every pixel's reference level; events start after it.
    public func emulate(frames: [DVSFrame], using rng: inout SeededGenerator) throws -> DVSEvents {
        let n = sensor.width * sensor.height
        for (k, f) in frames.enumerated() {
            guard f.intensity.count == n else {
                throw EmulationError.frameSizeMismatch(frame: k, expected: n, got: f.intensity.count)
            }
            if k > 0, f.timestamp <= frames[k - 1].timestamp { throw EmulationError.timestampsNotIncreasing(frame: k) }
        }
        guard let first = frames.first, let last = frames.last else { return DVSEvents(sensor: sensor) }
        let region = PixelRegion(x0: 0, y0: 0, width: sensor.width, height: sensor.height)
        return emulate(region: region, frameTimes: frames.map(\.timestamp),
                       noiseWindow: first.timestamp...last.timestamp, using: &rng) { k, out in
            out = frames[k].intensity
        }
    }

    /// Emulates only the pixels of `region`, whose luminance `render(k, &out)` writes for
    /// frame `k` (`out` is `[region.height, region.width]`, pre-sized); pixels outside it see a
    /// constant scene and only produce noise. Noise (background + hot pixels) covers the whole
    /// array during `noiseWindow` (µs). Output is sorted by time.
    public func emulate(region: PixelRegion, frameTimes: [Int64], noiseWindow: ClosedRange<Int64>,
                        using rng: inout SeededGenerator,
                        render: (Int, inout [Float]) -> Void) -> DVSEvents {
        let region = region.clipped(to: sensor)
        var array = DVSPixelArray(region: region, parameters: parameters, using: &rng)
        var stimulusEvents = DVSEvents(sensor: sensor)
        var luminance = [Float](repeating: 0, count: region.count)
        if !frameTimes.isEmpty && region.count > 0 {
            render(0, &luminance)
            array.reset(luminance: luminance, at: frameTimes[0])
            var chunk: [DVSPixelArray.PendingEvent] = []
            for k in 1..<frameTimes.count {
                render(k, &luminance)
                chunk.removeAll(keepingCapacity: true)
                array.advance(to: luminance, at: frameTimes[k], appending: &chunk)
                chunk.sort { $0.t != $1.t ? $0.t < $1.t : $0.pixel < $1.pixel }
                for e in chunk {
                    let (py, px) = Int(e.pixel).quotientAndRemainder(dividingBy: region.width)
                    stimulusEvents.append(t: e.t, x: UInt16(region.x0 + px), y: UInt16(region.y0 + py),
                                          polarity: e.on ? 1 : 0)
                }
            }
        }
        let noise = DVSNoise.events(sensor: sensor, parameters: parameters, window: noiseWindow, using: &rng)
        return DVSEvents.mergedByTime(stimulusEvents, noise)
    }
}

/// The state of a block of DVS pixels (reference levels, thresholds, last event times).
/// Plain value type; `advance` is the pixel model's step function.
struct DVSPixelArray {
    struct PendingEvent { var t: Int64; var pixel: Int32; var on: Bool }

    let region: PixelRegion
    let parameters: DVSParameters
    var onThreshold: [Float], offThreshold: [Float]
    var reference: [Float]          // L_ref per pixel, log units
    var previousLog: [Float]        // L at the previous frame
    var lastEvent: [Int64]          // µs, Int64.min/2 = never
    var previousTime: Int64 = 0

    init(region: PixelRegion, parameters: DVSParameters, using rng: inout SeededGenerator) {
        self.region = region; self.parameters = parameters
        let n = region.count
        onThreshold = [Float](repeating: parameters.onThreshold, count: n)
        offThreshold = [Float](repeating: parameters.offThreshold, count: n)
        if parameters.thresholdMismatchSigma > 0 {
            for i in 0..<n {
                onThreshold[i] = max(0.2 * parameters.onThreshold,
                                     rng.gaussian(mean: parameters.onThreshold, sigma: parameters.thresholdMismatchSigma))
                offThreshold[i] = max(0.2 * parameters.offThreshold,
                                      rng.gaussian(mean: parameters.offThreshold, sigma: parameters.thresholdMismatchSigma))
            }
        }
        reference = [Float](repeating: 0, count: n)
        previousLog = reference
        lastEvent = [Int64](repeating: Int64.min / 2, count: n)
    }

    mutating func reset(luminance: [Float], at t: Int64) {
        let eps = parameters.logEpsilon
        for i in 0..<region.count {
            let l = logf(max(luminance[i], 0) + eps)
            reference[i] = l; previousLog[i] = l
        }
        previousTime = t
    }

    /// Advances every pixel from the previous frame (time t0) to `luminance` at `t1`,
    /// appending events with interpolated timestamps t = t0 + (L_cross − L0)/(L1 − L0)·(t1 − t0).
    mutating func advance(to luminance: [Float], at t1: Int64, appending out: inout [PendingEvent]) {
        let t0 = previousTime
        let dt = Double(t1 - t0)
        let eps = parameters.logEpsilon
        let refractory = parameters.refractoryMicroseconds
        for i in 0..<region.count {
            let l0 = previousLog[i]
            let l1 = logf(max(luminance[i], 0) + eps)
            previousLog[i] = l1
            var ref = reference[i]
            if l1 - ref >= onThreshold[i] || ref - l1 >= offThreshold[i] {
                let slope = l1 - l0
                var last = lastEvent[i]
                while true {
                    let on = l1 - ref >= onThreshold[i]
                    let off = ref - l1 >= offThreshold[i]
                    if !on && !off { break }
                    let target = on ? ref + onThreshold[i] : ref - offThreshold[i]
                    // Time the interpolated L(t) reaches the target level (or t0 if it already had).
                    // Inside this interval only if the target lies between L0 and L1; otherwise
                    // it was already passed at t0 (a crossing deferred by the refractory period).
                    let inInterval = on ? (l0 < target) : (l0 > target)
                    var frac = inInterval ? Double((target - l0) / slope) : 0
                    frac = min(max(frac, 0), 1)
                    var t = t0 + Int64((frac * dt).rounded())
                    if t < last + refractory { t = last + refractory }
                    if t > t1 { break }  // still refractory at the end of this interval: fire later
                    out.append(PendingEvent(t: t, pixel: Int32(i), on: on))
                    ref = target; last = t
                }
                lastEvent[i] = last
                reference[i] = ref
            }
        }
        previousTime = t1
    }
}

/// Spontaneous DVS events: Poisson background activity on every pixel plus hot pixels.
enum DVSNoise {
    /// Background events over the whole array in `window` (µs), sorted by time.
    /// Total rate λ = rate·W·H (Hz): inter-event gaps are exponential with mean 1/λ; each
    /// event lands on a uniform pixel with a fair-coin polarity. Hot pixels (fixed positions
    /// drawn from `rng`) add their own Poisson streams.
    static func events(sensor: SensorSize, parameters: DVSParameters, window: ClosedRange<Int64>,
                       using rng: inout SeededGenerator) -> DVSEvents {
        var out = DVSEvents(sensor: sensor)
        let pixels = sensor.width * sensor.height
        guard pixels > 0 else { return out }
        var streams: [(rate: Double, pixel: Int?)] = []
        if parameters.backgroundRateHz > 0 { streams.append((parameters.backgroundRateHz * Double(pixels), nil)) }
        if parameters.hotPixelRateHz > 0 {
            for _ in 0..<max(0, parameters.hotPixelCount) {
                streams.append((parameters.hotPixelRateHz, rng.nextInt(below: pixels)))
            }
        }
        var all: [(t: Int64, p: Int, on: UInt8)] = []
        for s in streams {
            var t = Double(window.lowerBound)
            while true {
                t += rng.exponential(rate: s.rate) * 1e6
                if t > Double(window.upperBound) { break }
                let p = s.pixel ?? rng.nextInt(below: pixels)
                all.append((Int64(t), p, UInt8(truncatingIfNeeded: rng.next() >> 63)))
            }
        }
        all.sort { $0.t != $1.t ? $0.t < $1.t : $0.p < $1.p }
        out.reserveCapacity(all.count)
        for e in all {
            out.append(t: e.t, x: UInt16(e.p % sensor.width), y: UInt16(e.p / sensor.width), polarity: e.on)
        }
        return out
    }
}

extension DVSEvents {
    /// Merges two time-sorted streams of the same sensor into one time-sorted stream
    /// (ties: events of `a` first).
    static func mergedByTime(_ a: DVSEvents, _ b: DVSEvents) -> DVSEvents {
        var out = DVSEvents(sensor: a.sensor)
        out.reserveCapacity(a.count + b.count)
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if j >= b.count || (i < a.count && a.t[i] <= b.t[j]) {
                out.append(t: a.t[i], x: a.x[i], y: a.y[i], polarity: a.polarity[i]); i += 1
            } else {
                out.append(t: b.t[j], x: b.x[j], y: b.y[j], polarity: b.polarity[j]); j += 1
            }
        }
        return out
    }
}
