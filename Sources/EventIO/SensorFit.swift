/// Fits the events of a sensor of any size (DVS128's 128 × 128, DAVIS346's 346 × 260, a
/// Prophesee EVK4's 1280 × 720, …) to a network's input of `width` × `height` pixels, in
/// three fixed steps (sizes as width × height, origin top-left):
///
/// 1. an optional centred crop of the sensor, `crop` (clipped to the sensor):
///    left = ⌊(W − cw) / 2⌋, top = ⌊(H − ch) / 2⌋;
/// 2. integer downsampling by `factor` f (`Downsample`: (x, y) → (⌊x / f⌋, ⌊y / f⌋)), the
///    region becoming ⌈cw / f⌉ × ⌈ch / f⌉. By default f is the largest factor that keeps both
///    sides at least the input's: f = max(1, min(⌊cw / width⌋, ⌊ch / height⌋));
/// 3. a centred crop to exactly `width` × `height`.
///
/// Example: 1280 × 720 to 32 × 32: f = min(40, 22) = 22, 59 × 33, then the centre 32 × 32
/// (left 13, top 0). 346 × 260 to 64 × 64: f = min(5, 4) = 4, 87 × 65, then the centre 64 × 64.
/// DVS128 to 32 × 32: f = 4, exactly 32 × 32. When step 2 leaves a side smaller than the
/// input's (a sensor smaller than the input, or a `factor` too large), `fits` is false: the
/// data cannot fill the input, and callers report both shapes.
/// Every step keeps the events' time order; events outside a crop are dropped.
public struct SensorFit: DVSTransform, Equatable {
    public var sensor: SensorSize
    public var width: Int, height: Int
    /// Centred region of the sensor kept before downsampling; nil keeps all of it.
    public var crop: SensorSize?
    /// Downsampling factor f ≥ 1.
    public var factor: Int

    /// Precondition: width, height ≥ 1, factor (when given) ≥ 1.
    public init(sensor: SensorSize, width: Int, height: Int, crop: SensorSize? = nil, factor: Int? = nil) {
        precondition(width >= 1 && height >= 1, "SensorFit: width and height must be ≥ 1")
        self.sensor = sensor; self.width = width; self.height = height; self.crop = crop
        let region = Self.region(sensor, crop)
        self.factor = factor ?? max(1, min(region.width / width, region.height / height))
        precondition(self.factor >= 1, "SensorFit: factor must be ≥ 1")
    }

    /// The sensor region of step 1 (the crop clipped to the sensor).
    static func region(_ sensor: SensorSize, _ crop: SensorSize?) -> SensorSize {
        guard let crop else { return sensor }
        return SensorSize(width: min(crop.width, sensor.width), height: min(crop.height, sensor.height))
    }

    /// The size after steps 1 and 2: ⌈cw / f⌉ × ⌈ch / f⌉.
    public var downsampled: SensorSize {
        let r = Self.region(sensor, crop)
        return SensorSize(width: (r.width + factor - 1) / factor, height: (r.height + factor - 1) / factor)
    }

    /// Whether the downsampled region covers the input (else the input cannot be filled).
    public var fits: Bool { downsampled.width >= width && downsampled.height >= height }

    public func callAsFunction(_ events: DVSEvents) -> DVSEvents {
        var e = events
        e.sensor = sensor
        let r = Self.region(sensor, crop)
        if r != sensor {
            e = SpatialCrop(x: (sensor.width - r.width) / 2, y: (sensor.height - r.height) / 2,
                            width: r.width, height: r.height)(e)
        }
        if factor > 1 { e = Downsample(factor: factor)(e) }
        let d = e.sensor
        if d.width == width && d.height == height { return e }
        return SpatialCrop(x: (d.width - width) / 2, y: (d.height - height) / 2, width: width, height: height)(e)
    }
}
