import SpikeTensor

/// How a live event stream becomes network input: consecutive windows of T bins of
/// `binMicroseconds` each, every window framed exactly as one training sample is.
///
/// Window k covers [t₀ + k·T·d, t₀ + (k+1)·T·d) µs, t₀ the stream's first event, d the bin
/// length. A window's events go through the training pipeline: `CentroidCrop(cropWidth ×
/// cropHeight)` on the window's event centroid, `Downsample(downsample)`, then `DVSFraming`
/// with T bins over the window, bin(t) = ⌊(t − window start) / d⌋ — the frames `[T, P, H, W]`
/// (P = 1 merged or 2: ON, OFF), H = ⌈cropHeight / f⌉, W = ⌈cropWidth / f⌉.
public struct LiveFraming: Sendable, Equatable {
    public var timesteps: Int
    /// d, the length of one time bin in µs.
    public var binMicroseconds: Int64
    public var cropWidth: Int, cropHeight: Int
    public var downsample: Int
    public var value: FrameValue
    public var mergePolarity: Bool

    public init(timesteps: Int, binMicroseconds: Int64, cropWidth: Int, cropHeight: Int, downsample: Int = 1,
                value: FrameValue = .binary, mergePolarity: Bool = false) {
        precondition(timesteps >= 1 && binMicroseconds >= 1 && cropWidth >= 1 && cropHeight >= 1 && downsample >= 1,
                     "LiveFraming: T, bin length, crop and downsampling must be ≥ 1")
        self.timesteps = timesteps; self.binMicroseconds = binMicroseconds
        self.cropWidth = cropWidth; self.cropHeight = cropHeight; self.downsample = downsample
        self.value = value; self.mergePolarity = mergePolarity
    }

    /// The framing that maps a `sensor` onto an input `[P, H, W]` without training settings:
    /// the largest integer factor f ≤ min(sensor W / W, sensor H / H) (at least 1), a centroid
    /// crop of W·f × H·f sensor pixels, then downsampling by f.
    public static func fitting(sensor: SensorSize, input: [Int], timesteps: Int, binMicroseconds: Int64) -> LiveFraming {
        precondition(input.count == 3 && input.allSatisfy { $0 >= 1 }, "LiveFraming.fitting: input must be [P, H, W]")
        let f = max(1, min(sensor.width / input[2], sensor.height / input[1]))
        return LiveFraming(timesteps: timesteps, binMicroseconds: binMicroseconds, cropWidth: input[2] * f,
                           cropHeight: input[1] * f, downsample: f, mergePolarity: input[0] == 1)
    }

    /// T·d, one window's length in µs.
    public var windowMicroseconds: Int64 { Int64(timesteps) * binMicroseconds }
    /// `[P, H, W]` of one frame.
    public var frameShape: [Int] {
        [mergePolarity ? 1 : 2, (cropHeight + downsample - 1) / downsample, (cropWidth + downsample - 1) / downsample]
    }

    /// Frames `[T, P, H, W]` of the window starting at `start` µs; `events` are its events
    /// (any outside [start, start + T·d) are dropped by the framing).
    public func frames(_ events: DVSEvents, start: Int64) -> Tensor {
        let placed = DVSPipeline([CentroidCrop(width: cropWidth, height: cropHeight), Downsample(factor: downsample)])(events)
        let framing = DVSFraming(timesteps: timesteps,
                                 binning: .divideSpan(startMicroseconds: start, durationMicroseconds: windowMicroseconds),
                                 value: value, mergePolarity: mergePolarity)
        return framing(placed)
    }
}
