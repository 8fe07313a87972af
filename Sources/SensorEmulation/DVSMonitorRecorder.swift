import Foundation
import SpikeTensor
import EventIO

/// An LCD monitor showing a grey-level image to the DVS (the MNIST-DVS recording set-up).
///
/// The shown luminance of an image value v ∈ [0, 255] is
/// `I = (black + (white − black)·v/255)·(1 + f·(−1)^k)` (relative units), constant between
/// refresh instants `t_k = k / refreshRateHz`, with a small alternating flicker `f`. The DVS
/// sees `I` linearly interpolated between refreshes — a crude stand-in for the photoreceptor's
/// low-pass response.
public struct MonitorDisplay: Sendable, Equatable {
    /// Refresh rate of the LCD, Hz.
    public var refreshRateHz: Double
    /// Relative luminance of a black pixel (LCD backlight leakage).
    public var blackLevel: Float
    /// Relative luminance of a white pixel.
    public var whiteLevel: Float
    /// Relative amplitude f of the alternating refresh flicker.
    public var flickerAmplitude: Float
    /// Sensor pixels per image pixel (1.1 for MNIST-DVS scale 4: 28 px → ~31 px).
    public var sensorPixelsPerImagePixel: Float

    public init(refreshRateHz: Double = 60, blackLevel: Float = 0.15, whiteLevel: Float = 1,
                flickerAmplitude: Float = 0.01, sensorPixelsPerImagePixel: Float = 1.1) {
        self.refreshRateHz = refreshRateHz; self.blackLevel = blackLevel; self.whiteLevel = whiteLevel
        self.flickerAmplitude = flickerAmplitude; self.sensorPixelsPerImagePixel = sensorPixelsPerImagePixel
    }
}

/// The slow, smooth path along which the image moves on the monitor (a 1:2 Lissajous figure):
/// `x(t) = cx + Ax·sin(2πt/P + φx)`, `y(t) = cy + Ay·sin(4πt/P + φy)` (sensor pixels, t in s).
/// Per recording, the phases φ are uniform in [0, 2π), the amplitudes vary by
/// ±`amplitudeJitter` (relative) and the centre by ±`centreJitter` px.
public struct MotionSettings: Sendable, Equatable {
    /// Ax, sensor pixels.
    public var amplitudeX: Float
    /// Ay, sensor pixels.
    public var amplitudeY: Float
    /// P, seconds.
    public var periodSeconds: Double
    /// Relative ± range of the per-recording amplitude variation.
    public var amplitudeJitter: Float
    /// ± range of the per-recording centre offset, sensor pixels.
    public var centreJitter: Float

    public init(amplitudeX: Float = 4, amplitudeY: Float = 1.5, periodSeconds: Double = 1.25,
                amplitudeJitter: Float = 0.15, centreJitter: Float = 1.5) {
        self.amplitudeX = amplitudeX; self.amplitudeY = amplitudeY; self.periodSeconds = periodSeconds
        self.amplitudeJitter = amplitudeJitter; self.centreJitter = centreJitter
    }
}

/// Records an image shown on a monitor and moved along a smooth path with an emulated DVS —
/// the MNIST-DVS protocol in software.
///
/// ```swift
/// var rng = SeededGenerator(seed: 7)
/// let events = try DVSMonitorRecorder.mnistDVSPreset.record(image: pixels, width: 28, height: 28, using: &rng)
/// ```
public struct DVSMonitorRecorder: Sendable {
    public var emulator: DVSEmulator
    public var display: MonitorDisplay
    public var motion: MotionSettings
    /// Length of a recording, µs.
    public var durationMicroseconds: Int64

    public init(emulator: DVSEmulator = DVSEmulator(), display: MonitorDisplay = MonitorDisplay(),
                motion: MotionSettings = MotionSettings(), durationMicroseconds: Int64 = 2_200_000) {
        self.emulator = emulator; self.display = display; self.motion = motion
        self.durationMicroseconds = durationMicroseconds
    }

    /// MNIST-DVS scale 4 on a DVS128: a 28×28 digit shown at 1.1× (~31 px) on a dark 60 Hz LCD,
    /// moved ±4 px horizontally and ±1.5 px vertically (period 1.25 s) for 2.2 s; thresholds
    /// 0.25 ± 0.03 log units, 0.5 ms refractory, 0.01 Hz/pixel background, 2 hot pixels at 2 Hz.
    /// Calibrated against the real `mnist_0_scale04_0001.aedat` (see docs/emulators.md).
    public static let mnistDVSPreset = DVSMonitorRecorder()

    /// Emulates one recording of `image` (`[height, width]`, values 0…255, row 0 at the top).
    public func record(image: [UInt8], width: Int, height: Int,
                       using rng: inout SeededGenerator) throws -> DVSEvents {
        guard width > 0, height > 0, image.count == width * height else {
            throw EmulationError.imageSizeMismatch(expected: max(0, width) * max(0, height), got: image.count)
        }
        guard display.refreshRateHz > 0, display.sensorPixelsPerImagePixel > 0, durationMicroseconds > 0 else {
            throw EmulationError.invalidParameter("refresh rate, display scale and duration must be > 0")
        }
        let sensor = emulator.sensor
        // Per-recording path.
        let jitterA = { (r: inout SeededGenerator) in 1 + self.motion.amplitudeJitter * r.nextUniform(-1, 1) }
        let ax = motion.amplitudeX * jitterA(&rng), ay = motion.amplitudeY * jitterA(&rng)
        let phx = 2 * Double.pi * rng.nextDouble(), phy = 2 * Double.pi * rng.nextDouble()
        let cx = Float(sensor.width) / 2 + motion.centreJitter * rng.nextUniform(-1, 1)
        let cy = Float(sensor.height) / 2 + motion.centreJitter * rng.nextUniform(-1, 1)
        let omega = 2 * Double.pi / motion.periodSeconds

        return try record(image: image, width: width, height: height, using: &rng) { ts in
            (cx + ax * Float(sin(omega * ts + phx)), cy + ay * Float(sin(2 * omega * ts + phy)))
        }
    }

    /// Emulates one recording of `image` moved along a caller-given `path`: `path(t)` is the
    /// image centre in sensor pixels (x right, y down) at t seconds, sampled at each refresh.
    public func record(image: [UInt8], width: Int, height: Int, using rng: inout SeededGenerator,
                       path: (Double) -> (x: Float, y: Float)) throws -> DVSEvents {
        guard width > 0, height > 0, image.count == width * height else {
            throw EmulationError.imageSizeMismatch(expected: max(0, width) * max(0, height), got: image.count)
        }
        guard display.refreshRateHz > 0, display.sensorPixelsPerImagePixel > 0, durationMicroseconds > 0 else {
            throw EmulationError.invalidParameter("refresh rate, display scale and duration must be > 0")
        }
        let sensor = emulator.sensor
        // Frames at the refresh instants, and the image's centre at each.
        let frameCount = Int(Double(durationMicroseconds) * 1e-6 * display.refreshRateHz) + 1
        var frameTimes = [Int64](), centres = [(Float, Float)]()
        for k in 0..<frameCount {
            let ts = Double(k) / display.refreshRateHz
            frameTimes.append(Int64((ts * 1e6).rounded()))
            let c = path(ts)
            guard c.x.isFinite, c.y.isFinite else {
                throw EmulationError.invalidParameter("motion path is not finite at t = \(ts) s")
            }
            centres.append((c.x, c.y))
        }

        // Only the pixels the image can reach need the pixel model.
        let s = display.sensorPixelsPerImagePixel
        let halfW = Float(width) * s / 2 + 2, halfH = Float(height) * s / 2 + 2
        let minX = centres.map(\.0).min()!, maxX = centres.map(\.0).max()!
        let minY = centres.map(\.1).min()!, maxY = centres.map(\.1).max()!
        let x0 = max(-1, min(Float(sensor.width), minX - halfW)), x1 = max(-1, min(Float(sensor.width), maxX + halfW))
        let y0 = max(-1, min(Float(sensor.height), minY - halfH)), y1 = max(-1, min(Float(sensor.height), maxY + halfH))
        let region = PixelRegion(x0: Int(x0.rounded(.down)), y0: Int(y0.rounded(.down)),
                                 width: Int((x1 - x0).rounded(.up)) + 1, height: Int((y1 - y0).rounded(.up)) + 1)
            .clipped(to: sensor)
        let values = image.map { Float($0) / 255 }
        let black = display.blackLevel, span = display.whiteLevel - display.blackLevel
        let flicker = display.flickerAmplitude
        return emulator.emulate(region: region, frameTimes: frameTimes,
                                noiseWindow: 0...durationMicroseconds, using: &rng) { k, out in
            let (ccx, ccy) = centres[k]
            let gain = 1 + (k % 2 == 0 ? flicker : -flicker)
            for ry in 0..<region.height {
                // image coordinates of the sensor pixel centre (pixel centres at integers)
                let v = (Float(region.y0 + ry) + 0.5 - ccy) / s + Float(height) / 2 - 0.5
                for rx in 0..<region.width {
                    let u = (Float(region.x0 + rx) + 0.5 - ccx) / s + Float(width) / 2 - 0.5
                    let g = bilinearSample(values, width: width, height: height, u: u, v: v)
                    out[ry * region.width + rx] = (black + span * g) * gain
                }
            }
        }
    }
}

/// Bilinear interpolation of `[height, width]` `image` at (u, v) (pixel centres at integer
/// coordinates), zero outside the image.
@inline(__always)
func bilinearSample(_ image: [Float], width: Int, height: Int, u: Float, v: Float) -> Float {
    let fu = u.rounded(.down), fv = v.rounded(.down)
    let x0 = Int(fu), y0 = Int(fv)
    if x0 < -1 || y0 < -1 || x0 >= width || y0 >= height { return 0 }
    let a = u - fu, b = v - fv
    @inline(__always) func at(_ x: Int, _ y: Int) -> Float {
        (x >= 0 && y >= 0 && x < width && y < height) ? image[y * width + x] : 0
    }
    return (1 - b) * ((1 - a) * at(x0, y0) + a * at(x0 + 1, y0)) + b * ((1 - a) * at(x0, y0 + 1) + a * at(x0 + 1, y0 + 1))
}
