import Foundation
import SpikeTensor
import EventIO

/// How one pair of the dataset was degraded (`--corrupt P`), recorded for later analysis of
/// the attention weights.
public enum CorruptionKind: String, Sendable, Codable, CaseIterable {
    /// Untouched.
    case none
    /// Visual: a burst of sensor noise — extra random events at a high rate around the digit.
    case visualNoiseBurst
    /// Visual: a band across the digit where every event is removed.
    case visualOcclusion
    /// Audio: strong white noise added to the waveform before the cochlea (low SNR).
    case audioLowSNR
    /// Audio: a burst of spurious cochlea events on all channels.
    case audioNoiseBurst

    /// Which modality it degrades (nil for `.none`).
    public var modality: String? {
        switch self {
        case .none: return nil
        case .visualNoiseBurst, .visualOcclusion: return "visual"
        case .audioLowSNR, .audioNoiseBurst: return "audio"
        }
    }
}

/// Strength of each corruption; `fraction` is P of `--corrupt P`.
public struct CorruptionSettings: Sendable, Equatable {
    /// Fraction P ∈ [0, 1] of pairs in which one modality (chosen with equal odds) is degraded.
    public var fraction: Double
    /// Visual burst: rate per pixel, Hz, over a 48×48 box centred on the digit.
    public var visualBurstRateHz: Double
    /// Visual burst duration range, seconds.
    public var visualBurstSeconds: ClosedRange<Double>
    /// Occlusion band width range, pixels (horizontal or vertical band through the digit).
    public var occlusionWidth: ClosedRange<Int>
    /// Audio low-SNR range, dB (noise RMS relative to the clip's RMS).
    public var lowSNRRangeDB: ClosedRange<Float>
    /// Audio burst: rate per channel, Hz.
    public var audioBurstRateHz: Double
    /// Audio burst duration range, seconds.
    public var audioBurstSeconds: ClosedRange<Double>
    /// The splits whose pairs may be corrupted (both by default; `[.test]` degrades the
    /// sensors at test time only, after training on clean data).
    public var splits: Set<Split> = [.train, .test]

    public init(fraction: Double = 0, visualBurstRateHz: Double = 15, visualBurstSeconds: ClosedRange<Double> = 0.4...1.0,
                occlusionWidth: ClosedRange<Int> = 10...16, lowSNRRangeDB: ClosedRange<Float> = -6...0,
                audioBurstRateHz: Double = 150, audioBurstSeconds: ClosedRange<Double> = 0.2...0.5) {
        self.fraction = fraction; self.visualBurstRateHz = visualBurstRateHz
        self.visualBurstSeconds = visualBurstSeconds; self.occlusionWidth = occlusionWidth
        self.lowSNRRangeDB = lowSNRRangeDB; self.audioBurstRateHz = audioBurstRateHz
        self.audioBurstSeconds = audioBurstSeconds
    }

    /// The corruption of one pair: with probability P a modality (fair coin), then one of its
    /// two kinds (fair coin). Deterministic in `rng`.
    public func choose(using rng: inout SeededGenerator) -> CorruptionKind {
        let u = rng.nextDouble(), modality = rng.nextInt(below: 2), kind = rng.nextInt(below: 2)
        guard u < fraction else { return .none }
        return modality == 0 ? (kind == 0 ? .visualNoiseBurst : .visualOcclusion)
                             : (kind == 0 ? .audioLowSNR : .audioNoiseBurst)
    }

    /// Applies a visual corruption to DVS events (other kinds return them unchanged).
    public func corruptVisual(_ events: DVSEvents, kind: CorruptionKind, using rng: inout SeededGenerator) -> DVSEvents {
        guard !events.isEmpty else { return events }
        // digit centre: median event position
        let cx = Int(events.x.sorted()[events.count / 2]), cy = Int(events.y.sorted()[events.count / 2])
        let end = events.t.last ?? 0
        switch kind {
        case .visualNoiseBurst:
            let length = Int64(rng.nextUniform(Float(visualBurstSeconds.lowerBound), Float(visualBurstSeconds.upperBound)) * 1e6)
            let start = Int64(rng.nextDouble() * Double(max(0, end - length)))
            let box = PixelRegion(x0: cx - 24, y0: cy - 24, width: 48, height: 48).clipped(to: events.sensor)
            var burst = DVSEvents(sensor: events.sensor)
            guard box.count > 0 else { return events }
            var t = Double(start)
            let rate = visualBurstRateHz * Double(box.count)
            while true {
                t += rng.exponential(rate: rate) * 1e6
                if t > Double(start + length) { break }
                let p = rng.nextInt(below: box.count)
                burst.append(t: Int64(t), x: UInt16(box.x0 + p % box.width), y: UInt16(box.y0 + p / box.width),
                             polarity: UInt8(truncatingIfNeeded: rng.next() >> 63))
            }
            return DVSEvents.mergedByTime(events, burst)
        case .visualOcclusion:
            let width = occlusionWidth.lowerBound + rng.nextInt(below: occlusionWidth.count)
            let vertical = rng.nextInt(below: 2) == 0
            let centre = (vertical ? cx : cy) + rng.nextInt(below: 9) - 4
            let lo = centre - width / 2, hi = lo + width
            var out = DVSEvents(sensor: events.sensor)
            out.reserveCapacity(events.count)
            for i in 0..<events.count {
                let v = Int(vertical ? events.x[i] : events.y[i])
                if v >= lo && v < hi { continue }
                out.append(t: events.t[i], x: events.x[i], y: events.y[i], polarity: events.polarity[i])
            }
            return out
        default:
            return events
        }
    }

    /// Audio low SNR: adds white noise so that noise RMS = clip RMS·10^{−SNR/20}, SNR drawn from
    /// `lowSNRRangeDB`. (Applied before the cochlea.)
    public func addLowSNRNoise(_ samples: [Float], using rng: inout SeededGenerator) -> [Float] {
        let snr = rng.nextUniform(lowSNRRangeDB.lowerBound, lowSNRRangeDB.upperBound)
        let sigma = rootMeanSquare(samples) * powf(10, -snr / 20)
        return samples.map { $0 + sigma * Float(rng.nextGaussian()) }
    }

    /// Audio noise burst: spurious events on uniformly random channels at `audioBurstRateHz`
    /// per channel during a random window inside `[0, durationMicroseconds]`.
    public func corruptAudio(_ events: CochleaEvents, durationMicroseconds: Int64,
                             using rng: inout SeededGenerator) -> CochleaEvents {
        let length = Int64(rng.nextUniform(Float(audioBurstSeconds.lowerBound), Float(audioBurstSeconds.upperBound)) * 1e6)
        let start = Int64(rng.nextDouble() * Double(max(0, durationMicroseconds - length)))
        var all = zip(events.t, events.channel).map { ($0, $1) }
        var t = Double(start)
        let channels = max(1, events.channelCount)
        while true {
            t += rng.exponential(rate: audioBurstRateHz * Double(channels)) * 1e6
            if t > Double(start + length) { break }
            all.append((Int64(t), UInt16(rng.nextInt(below: channels))))
        }
        all.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        return CochleaEvents(channelCount: events.channelCount, t: all.map(\.0), channel: all.map(\.1))
    }
}
