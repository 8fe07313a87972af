import SpikeTensor

/// How a live event stream becomes network input: consecutive windows of T bins of
/// `binMicroseconds` each, every window framed as one training sample is.
///
/// Window k covers [t₀ + k·T·d, t₀ + (k+1)·T·d) µs, t₀ the stream's first event, d the bin
/// length. A window's events are placed on the input by `placement` — as the training data
/// did — then `DVSFraming` gives T bins over the window, bin(t) = ⌊(t − window start) / d⌋:
/// frames `[T, P, H, W]`, P = 1 (merged) or 2 (ON, OFF), binary values or counts.
public struct LiveFraming: Sendable, Equatable {
    /// Where a window's events land on the input.
    public enum Placement: Sendable, Equatable {
        /// As the joint dataset trains: a `CentroidCrop(width × height)` on the window's event
        /// centroid, then `Downsample(downsample)`: H = ⌈height / f⌉, W = ⌈width / f⌉.
        case centroidCrop(width: Int, height: Int, downsample: Int)
        /// As the event-folder datasets train (and for a network with no training data): the
        /// fixed centred fit of the sensor onto the input, `SensorFit`.
        case sensorFit(SensorFit)
    }

    public var timesteps: Int
    /// d, the length of one time bin in µs.
    public var binMicroseconds: Int64
    public var placement: Placement
    public var value: FrameValue
    public var mergePolarity: Bool

    public init(timesteps: Int, binMicroseconds: Int64, placement: Placement, value: FrameValue = .binary,
                mergePolarity: Bool = false) {
        precondition(timesteps >= 1 && binMicroseconds >= 1, "LiveFraming: T and the bin length must be ≥ 1")
        if case .centroidCrop(let w, let h, let f) = placement {
            precondition(w >= 1 && h >= 1 && f >= 1, "LiveFraming: crop and downsampling must be ≥ 1")
        }
        self.timesteps = timesteps; self.binMicroseconds = binMicroseconds; self.placement = placement
        self.value = value; self.mergePolarity = mergePolarity
    }

    /// The framing of a stream from `sensor` onto an input `[P, H, W]` without training
    /// settings: `SensorFit` with its default factor (the largest that covers the input).
    public static func fitting(sensor: SensorSize, input: [Int], timesteps: Int, binMicroseconds: Int64) -> LiveFraming {
        precondition(input.count == 3 && input.allSatisfy { $0 >= 1 }, "LiveFraming.fitting: input must be [P, H, W]")
        return LiveFraming(timesteps: timesteps, binMicroseconds: binMicroseconds,
                           placement: .sensorFit(SensorFit(sensor: sensor, width: input[2], height: input[1])),
                           mergePolarity: input[0] == 1)
    }

    /// T·d, one window's length in µs.
    public var windowMicroseconds: Int64 { Int64(timesteps) * binMicroseconds }
    /// `[P, H, W]` of one frame.
    public var frameShape: [Int] {
        let p = mergePolarity ? 1 : 2
        switch placement {
        case .centroidCrop(let w, let h, let f): return [p, (h + f - 1) / f, (w + f - 1) / f]
        case .sensorFit(let fit): return [p, fit.height, fit.width]
        }
    }

    /// Frames `[T, P, H, W]` of the window starting at `start` µs; `events` are its events
    /// (any outside [start, start + T·d) are dropped by the framing).
    public func frames(_ events: DVSEvents, start: Int64) -> Tensor {
        let placed: DVSEvents
        switch placement {
        case .centroidCrop(let w, let h, let f): placed = Downsample(factor: f)(CentroidCrop(width: w, height: h)(events))
        case .sensorFit(let fit): placed = fit(events)
        }
        let framing = DVSFraming(timesteps: timesteps,
                                 binning: .divideSpan(startMicroseconds: start, durationMicroseconds: windowMicroseconds),
                                 value: value, mergePolarity: mergePolarity)
        return framing(placed)
    }
}
