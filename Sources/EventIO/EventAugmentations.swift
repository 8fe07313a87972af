import Foundation
import SpikeTensor

/// Random event augmentations (drop, jitter, flip, noise, skew, crop) as small value types,
/// in the style of the deterministic `DVSTransform`s.
///
/// Conventions, as for `DVSEvents`: times in µs (`Int64`), x counts columns from the left and
/// y rows from the top (origin top-left), polarity 1 = ON and 0 = OFF. Every augmentation
/// takes the events it is given as time-ordered and on the sensor, and returns events that
/// are time-ordered (non-decreasing t) and on its output sensor (0 ≤ x < W, 0 ≤ y < H).
///
/// Randomness comes only from the `SeededGenerator` passed in, drawn with this file's own
/// integer and floating-point helpers (not `random(in:)`, whose algorithm the standard library
/// does not fix), so the same seed gives bit-identical output. Integer draws (drop, flip, noise,
/// crop) are the same on every platform; the Gaussian jitters go through libm's log, cos and
/// sin, so a last-bit difference between C libraries could, rarely, move a rounded offset.
///
/// Seeding rule for training (`train --augment`, `AugmentationSettings`, `AugmentedEpoch`):
/// sample `i` of epoch `e` in a run seeded `s` is augmented with
/// `AugmentationSeed.derive(run: s, epoch: e, sample: i)`:
///
/// ```swift
/// let augment = AugmentationPipeline([DropEvents(probability: 0.1), SpatialJitter(sigma: 1),
///                                     RandomCrop(width: 112, height: 112)])
/// let out = augment(events, seed: AugmentationSeed.derive(run: 7, epoch: 3, sample: 41))
/// ```

/// An event augmentation: a transform that draws its randomness from `rng`.
public protocol DVSAugmentation: Sendable {
    func callAsFunction(_ events: DVSEvents, using rng: inout SeededGenerator) -> DVSEvents
}

extension DVSAugmentation {
    /// This augmentation with its seed fixed, as a plain (deterministic) `DVSTransform`.
    public func seeded(_ seed: UInt64) -> SeededAugmentation { SeededAugmentation(self, seed: seed) }
}

/// An augmentation run with a fresh `SeededGenerator(seed: seed)` on every call, so it can sit
/// in a `DVSPipeline` next to the deterministic transforms.
public struct SeededAugmentation: DVSTransform {
    public var augmentation: any DVSAugmentation
    public var seed: UInt64
    public init(_ augmentation: any DVSAugmentation, seed: UInt64) {
        self.augmentation = augmentation; self.seed = seed
    }
    public func callAsFunction(_ events: DVSEvents) -> DVSEvents {
        var rng = SeededGenerator(seed: seed)
        return augmentation(events, using: &rng)
    }
}

/// A deterministic `DVSTransform` as a pipeline stage (it draws nothing from the generator).
public struct FixedTransform: DVSAugmentation {
    public var transform: any DVSTransform
    public init(_ transform: any DVSTransform) { self.transform = transform }
    public func callAsFunction(_ events: DVSEvents, using rng: inout SeededGenerator) -> DVSEvents {
        transform(events)
    }
}

/// Augmentations applied in order, first to last, all drawing from one generator seeded once
/// per call: `pipeline(events, seed:)` is a pure function of the events and the seed.
public struct AugmentationPipeline: DVSAugmentation {
    public var stages: [any DVSAugmentation]
    public init(_ stages: [any DVSAugmentation]) { self.stages = stages }
    public func callAsFunction(_ events: DVSEvents, using rng: inout SeededGenerator) -> DVSEvents {
        var out = events
        for stage in stages { out = stage(out, using: &rng) }
        return out
    }
    /// The pipeline run with `SeededGenerator(seed: seed)`.
    public func callAsFunction(_ events: DVSEvents, seed: UInt64) -> DVSEvents {
        var rng = SeededGenerator(seed: seed)
        return self(events, using: &rng)
    }
}

/// The seeding rule for on-the-fly augmentation: seed = f(run seed, epoch, sample index).
///
/// f chains the SplitMix64 finaliser (a fixed bijective mix of 64 bits, unlike Swift's
/// per-process randomised `Hasher`) over the three numbers, each offset by its own constant:
/// h₁ = mix(run ⊕ K₁), h₂ = mix(h₁ ⊕ (epoch + K₂)), seed = mix(h₂ ⊕ (sample + K₃)), with
/// wrapping arithmetic. The same (run, epoch, sample) gives the same seed on every machine
/// and in every process, so a resumed run augments each sample exactly as before.
/// `sample` is the sample's index in the dataset (not its position in the shuffled order),
/// so a sample's augmentation does not depend on the batch it lands in.
public enum AugmentationSeed {
    public static func derive(run: UInt64, epoch: Int, sample: Int) -> UInt64 {
        let h1 = mix(run ^ 0x5350_494B_4546_5553)                                    // "SPIKEFUS"
        let h2 = mix(h1 ^ (UInt64(bitPattern: Int64(epoch)) &+ 0x4550_4F43_4845_5321))  // "EPOCHES!"
        return mix(h2 ^ (UInt64(bitPattern: Int64(sample)) &+ 0x5341_4D50_4C45_5321)) // "SAMPLES!"
    }

    /// SplitMix64's finaliser.
    @inline(__always) static func mix(_ v: UInt64) -> UInt64 {
        var z = v &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

// MARK: - The augmentations

/// Drops each event independently with probability `probability` (keeps it with 1 − p), in
/// order. p = 0 keeps every event, p = 1 drops every event. Sensor unchanged.
public struct DropEvents: DVSAugmentation, Equatable {
    public var probability: Double
    public init(probability: Double) {
        precondition(probability >= 0 && probability <= 1, "DropEvents: probability must be in 0…1")
        self.probability = probability
    }
    public func callAsFunction(_ events: DVSEvents, using rng: inout SeededGenerator) -> DVSEvents {
        let p = probability
        return events._filtered { _ in rng.unitInterval() >= p }
    }
}

/// Moves each event by (round(σx·z₁), round(σy·z₂)) pixels, z₁, z₂ standard normal
/// (Box–Muller), times unchanged. `border` says what happens to an event moved off the
/// sensor: `.drop` (the default) removes it, `.clamp` puts it on the nearest edge pixel.
/// Sensor unchanged.
public struct SpatialJitter: DVSAugmentation, Equatable {
    public enum Border: Sendable, Equatable { case drop, clamp }
    /// Standard deviations in pixels (≥ 0).
    public var sigmaX: Double, sigmaY: Double
    public var border: Border
    public init(sigmaX: Double, sigmaY: Double, border: Border = .drop) {
        precondition(sigmaX >= 0 && sigmaY >= 0 && sigmaX.isFinite && sigmaY.isFinite,
                     "SpatialJitter: sigmas must be finite and ≥ 0")
        self.sigmaX = sigmaX; self.sigmaY = sigmaY; self.border = border
    }
    /// The same σ (pixels) in x and y.
    public init(sigma: Double, border: Border = .drop) { self.init(sigmaX: sigma, sigmaY: sigma, border: border) }

    public func callAsFunction(_ events: DVSEvents, using rng: inout SeededGenerator) -> DVSEvents {
        let w = events.sensor.width, h = events.sensor.height
        let (sx, sy, clamp) = (sigmaX, sigmaY, border == .clamp)
        return events._mapped(sensor: events.sensor) { i in
            let (z1, z2) = rng.standardNormalPair()
            let nx = Int(events.x[i]) + roundedOffset(sx * z1), ny = Int(events.y[i]) + roundedOffset(sy * z2)
            if clamp {
                guard w > 0, h > 0 else { return nil }
                return (UInt16(clamping: min(max(nx, 0), w - 1)), UInt16(clamping: min(max(ny, 0), h - 1)))
            }
            guard nx >= 0, nx < w, ny >= 0, ny < h, let ux = UInt16(exactly: nx), let uy = UInt16(exactly: ny)
            else { return nil }
            return (ux, uy)
        }
    }
}

/// Moves each event's time by round(σ·z) µs, z standard normal, then re-sorts the events by
/// their new times, stably (events that end on the same time keep their input order). Times
/// may move before the first input time (below 0 too); they saturate at the `Int64` range.
/// Positions, polarities and sensor unchanged; no event is dropped.
public struct TimeJitter: DVSAugmentation, Equatable {
    /// Standard deviation in µs (≥ 0).
    public var sigmaMicroseconds: Double
    public init(sigmaMicroseconds: Double) {
        precondition(sigmaMicroseconds >= 0 && sigmaMicroseconds.isFinite,
                     "TimeJitter: sigma must be finite and ≥ 0")
        self.sigmaMicroseconds = sigmaMicroseconds
    }
    public func callAsFunction(_ events: DVSEvents, using rng: inout SeededGenerator) -> DVSEvents {
        let sigma = sigmaMicroseconds
        let moved = events.t.map { t -> Int64 in
            let (shifted, overflow) = t.addingReportingOverflow(Int64(roundedOffset(sigma * rng.standardNormal())))
            return overflow ? (t < 0 ? .min : .max) : shifted
        }
        return events._reordered(times: moved)
    }
}

/// Mirrors every event left–right: x → W − 1 − x on a sensor W pixels wide. Deterministic;
/// `RandomHorizontalFlip` flips a whole sample with a probability. Sensor unchanged. An event
/// off the sensor (x ≥ W), or one whose flipped x does not fit 16 bits (sensors wider than
/// 65 536 pixels), is dropped.
public struct HorizontalFlip: DVSTransform, Equatable {
    public init() {}
    public func callAsFunction(_ events: DVSEvents) -> DVSEvents {
        let w = events.sensor.width
        return events._mapped(sensor: events.sensor) { i in
            guard Int(events.x[i]) < w, let fx = UInt16(exactly: w - 1 - Int(events.x[i])) else { return nil }
            return (fx, events.y[i])
        }
    }
}

/// Flips the whole sample left–right (`HorizontalFlip`) with probability `probability`, else
/// returns it unchanged. Draws one number per call.
public struct RandomHorizontalFlip: DVSAugmentation, Equatable {
    public var probability: Double
    public init(probability: Double = 0.5) {
        precondition(probability >= 0 && probability <= 1, "RandomHorizontalFlip: probability must be in 0…1")
        self.probability = probability
    }
    public func callAsFunction(_ events: DVSEvents, using rng: inout SeededGenerator) -> DVSEvents {
        rng.unitInterval() < probability ? HorizontalFlip()(events) : events
    }
}

/// Adds noise events uniform over the sample: t uniform in [t_min, t_max] µs (the input's
/// first and last times, both included), x uniform in 0..<W, y in 0..<H, polarity ON or OFF
/// with equal chance. The noise is merged in time order; at equal times the input's events
/// come first. An empty input, or an empty sensor, gets no noise (there is no time span).
/// On sensors wider or taller than 65 536 pixels, noise lands in the first 65 536 columns/rows
/// (the 16-bit address range).
public struct UniformNoise: DVSAugmentation, Equatable {
    public enum Amount: Sendable, Equatable {
        /// Exactly n noise events.
        case count(Int)
        /// round(rate × (t_max − t_min) × W × H) noise events: rate in events per µs per pixel.
        case rate(perMicrosecondPerPixel: Double)
    }
    public var amount: Amount
    /// The most noise events one call adds, whatever the rate (2³⁰).
    public static let maximumCount = 1 << 30
    public init(_ amount: Amount) {
        switch amount {
        case .count(let n): precondition(n >= 0, "UniformNoise: count must be ≥ 0")
        case .rate(let r): precondition(r >= 0 && r.isFinite, "UniformNoise: rate must be finite and ≥ 0")
        }
        self.amount = amount
    }
    public init(count: Int) { self.init(.count(count)) }

    /// The number of noise events this adds to `events`.
    public func noiseCount(for events: DVSEvents) -> Int {
        guard let lo = events.t.min(), let hi = events.t.max(), events.sensor.width > 0, events.sensor.height > 0
        else { return 0 }
        switch amount {
        case .count(let n): return min(n, Self.maximumCount)
        case .rate(let r):
            let span = Double(UInt64(bitPattern: hi &- lo))
            let n = (r * span * Double(events.sensor.width) * Double(events.sensor.height)).rounded()
            return n.isFinite ? Int(min(n, Double(Self.maximumCount))) : Self.maximumCount
        }
    }

    public func callAsFunction(_ events: DVSEvents, using rng: inout SeededGenerator) -> DVSEvents {
        let n = noiseCount(for: events)
        guard n > 0, let lo = events.t.min(), let hi = events.t.max() else { return events }
        let span = UInt64(bitPattern: hi &- lo)
        let w = UInt64(min(events.sensor.width, 1 << 16)), h = UInt64(min(events.sensor.height, 1 << 16))
        var all = events
        all.reserveCapacity(events.count + n)
        for _ in 0..<n {
            let dt = span == .max ? rng.next() : rng.below(span + 1)
            all.append(t: lo &+ Int64(bitPattern: dt), x: UInt16(rng.below(w)), y: UInt16(rng.below(h)),
                       polarity: UInt8(rng.below(2)))
        }
        return all._reordered(times: all.t)
    }
}

/// Linear time transform t → round(a·t + b) µs (Tonic's `TimeSkew`), a > 0 so the order is
/// kept; results saturate at the `Int64` range. Example: a = 2, b = −5 maps t = 10 to 15.
/// Deterministic; `RandomTimeSkew` draws a and b per sample. Positions and sensor unchanged.
public struct TimeSkew: DVSTransform, Equatable {
    public var coefficient: Double
    public var offsetMicroseconds: Double
    public init(coefficient: Double, offsetMicroseconds: Double = 0) {
        precondition(coefficient > 0 && coefficient.isFinite && offsetMicroseconds.isFinite,
                     "TimeSkew: coefficient must be finite and > 0, offset finite")
        self.coefficient = coefficient; self.offsetMicroseconds = offsetMicroseconds
    }
    public func callAsFunction(_ events: DVSEvents) -> DVSEvents {
        var out = events
        let (a, b) = (coefficient, offsetMicroseconds)
        out.t = events.t.map { Int64(saturating: (a * Double($0) + b).rounded()) }
        return out
    }
}

/// `TimeSkew` with a uniform in `coefficients` and b uniform in `offsetsMicroseconds` (µs),
/// drawn once per call (a first, then b).
public struct RandomTimeSkew: DVSAugmentation, Equatable {
    public var coefficients: ClosedRange<Double>
    public var offsetsMicroseconds: ClosedRange<Double>
    public init(coefficients: ClosedRange<Double>, offsetsMicroseconds: ClosedRange<Double> = 0...0) {
        precondition(coefficients.lowerBound > 0 && coefficients.upperBound.isFinite
                     && offsetsMicroseconds.lowerBound.isFinite && offsetsMicroseconds.upperBound.isFinite,
                     "RandomTimeSkew: coefficients must be finite and > 0, offsets finite")
        self.coefficients = coefficients; self.offsetsMicroseconds = offsetsMicroseconds
    }
    public func callAsFunction(_ events: DVSEvents, using rng: inout SeededGenerator) -> DVSEvents {
        func draw(_ r: ClosedRange<Double>) -> Double {
            min(r.upperBound, r.lowerBound + (r.upperBound - r.lowerBound) * rng.unitInterval())
        }
        let a = draw(coefficients), b = draw(offsetsMicroseconds)
        return TimeSkew(coefficient: a, offsetMicroseconds: b)(events)
    }
}

/// A `SpatialCrop` of width × height at a random place: left uniform in 0…W − width and top
/// uniform in 0…H − height (0 where the crop is larger than the sensor). The result's sensor
/// is width × height, coordinates relative to the crop's top-left corner.
public struct RandomCrop: DVSAugmentation, Equatable {
    public var width: Int, height: Int
    public init(width: Int, height: Int) {
        precondition(width >= 1 && height >= 1, "RandomCrop: width and height must be ≥ 1")
        self.width = width; self.height = height
    }
    /// The crop box's (left, top) for a sensor, drawn from `rng` (left first).
    public func box(on sensor: SensorSize, using rng: inout SeededGenerator) -> (x: Int, y: Int) {
        let left = Int(rng.below(UInt64(max(0, sensor.width - width)) + 1))
        let top = Int(rng.below(UInt64(max(0, sensor.height - height)) + 1))
        return (left, top)
    }
    public func callAsFunction(_ events: DVSEvents, using rng: inout SeededGenerator) -> DVSEvents {
        let (x, y) = box(on: events.sensor, using: &rng)
        return SpatialCrop(x: x, y: y, width: width, height: height)(events)
    }
}

// MARK: - Helpers

extension SeededGenerator {
    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always) mutating func unitInterval() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in 0..<n (n ≥ 1), without bias: Lemire's multiply-and-reject.
    @inline(__always) mutating func below(_ n: UInt64) -> UInt64 {
        precondition(n > 0, "below: n must be ≥ 1")
        var m = next().multipliedFullWidth(by: n)
        if m.low < n {
            let threshold = (0 &- n) % n
            while m.low < threshold { m = next().multipliedFullWidth(by: n) }
        }
        return m.high
    }

    /// Two independent standard normal numbers (Box–Muller).
    @inline(__always) mutating func standardNormalPair() -> (Double, Double) {
        let u1 = 1 - unitInterval()                     // (0, 1]: log stays finite
        let u2 = unitInterval()
        let r = (-2 * log(u1)).squareRoot(), angle = 2 * Double.pi * u2
        return (r * cos(angle), r * sin(angle))
    }

    @inline(__always) mutating func standardNormal() -> Double { standardNormalPair().0 }
}

/// round(v) as an Int, saturated to ±2⁶² (a jitter offset; never traps).
@inline(__always) func roundedOffset(_ v: Double) -> Int {
    let r = v.rounded()
    guard r.isFinite else { return 0 }
    return Int(max(-0x1p62, min(0x1p62, r)))
}

extension Int64 {
    /// `v` (already rounded) as an Int64, saturated at the type's range; NaN → 0.
    init(saturating v: Double) {
        if v.isNaN { self = 0 } else if v >= 0x1p63 { self = .max } else if v < -0x1p63 { self = .min }
        else { self = Int64(v) }
    }
}

extension DVSEvents {
    /// The events with times `times` (one per event), reordered by those times, stably (ties
    /// keep their index order).
    func _reordered(times: [Int64]) -> DVSEvents {
        let order = times.indices.sorted { times[$0] != times[$1] ? times[$0] < times[$1] : $0 < $1 }
        return DVSEvents(sensor: sensor, t: order.map { times[$0] }, x: order.map { x[$0] },
                         y: order.map { y[$0] }, polarity: order.map { polarity[$0] })
    }
}
