import Foundation
import SpikeTensor
import EventIO

/// Variation knobs of the procedural handwritten digits (defaults are the shipped dataset's).
///
/// The defaults are calibrated so that the paper's V-network does not saturate (sloppy
/// handwriting: rotation ±20°, slant ±0.45, aspect ±25 %, pen 1.2–3.6 px, wobble σ 7.5 % of
/// the height; the V-network then confuses 3/5/8, 4/9 and 7/9 most). With ±14°, 0.3, 15 %,
/// 1.5–3.2 px, 4.5 % the V-network reached 99.6 % in the demo setting, now 87–90 %; measured
/// accuracies and commands: docs/emulators.md, "Difficulty knobs".
public struct HandwritingSettings: Sendable, Equatable {
    /// ± range of the rotation, degrees.
    public var rotationDegrees: Float
    /// ± range of the horizontal shear (slant), x += shear·y.
    public var shear: Float
    /// Range of the overall scale (1 = the digit's longer side spans 20 px, as in MNIST).
    public var scale: ClosedRange<Float>
    /// ± range of the aspect-ratio change (relative width).
    public var aspect: Float
    /// ± translation after centring, pixels.
    public var translation: Float
    /// Range of the pen width, pixels.
    public var strokeWidth: ClosedRange<Float>
    /// σ of the elastic wobble added to every control point, in units of the glyph height.
    public var wobble: Float
    /// Range of the ink intensity (peak pixel value / 255).
    public var ink: ClosedRange<Float>

    public init(rotationDegrees: Float = 20, shear: Float = 0.45, scale: ClosedRange<Float> = 0.8...1.05,
                aspect: Float = 0.25, translation: Float = 1.5, strokeWidth: ClosedRange<Float> = 1.2...3.6,
                wobble: Float = 0.075, ink: ClosedRange<Float> = 0.8...1) {
        self.rotationDegrees = rotationDegrees; self.shear = shear; self.scale = scale; self.aspect = aspect
        self.translation = translation; self.strokeWidth = strokeWidth; self.wobble = wobble; self.ink = ink
    }
}

/// Handwriting-like digit images 0–9 from stroke templates, MNIST-like: 28×28, values 0…255
/// (0 = background), the digit's longer side ~20 px, its centre of mass at the image centre.
///
/// Each digit has 2–3 style variants (e.g. 7 with/without bar, 1 with/without flag, 4
/// open/closed). A sample picks a variant, wobbles the control points (Gaussian, σ =
/// `wobble`·height), smooths each stroke with a Catmull–Rom spline, applies a random affine
/// map (rotation, shear, scale, aspect), centres the ink's centre of mass, and renders the
/// strokes anti-aliased: a pixel at distance d (px) from the nearest stroke segment gets
/// coverage `clamp(w/2 + 0.5 − d, 0, 1)` for pen width w.
public struct DigitGlyphRenderer: Sendable {
    public var settings: HandwritingSettings
    public static let side = 28

    public init(settings: HandwritingSettings = HandwritingSettings()) { self.settings = settings }

    /// Number of style variants of `digit`.
    public static func variantCount(of digit: Int) -> Int { DigitTemplates.variants[digit].count }

    /// One 28×28 image (row-major, row 0 at the top) of `digit` (0…9).
    public func render(digit: Int, using rng: inout SeededGenerator) -> [UInt8] {
        precondition((0...9).contains(digit), "digit must be 0…9")
        let variants = DigitTemplates.variants[digit]
        let strokes = variants[rng.nextInt(below: variants.count)]
        let st = settings
        // 1. elastic wobble on the template (unit box: x 0…0.75, y 0…1, y down)
        var curves: [[SIMD2<Float>]] = strokes.map { stroke in
            stroke.map { p in
                SIMD2(p.x * 0.75 + rng.gaussian(sigma: st.wobble), p.y + rng.gaussian(sigma: st.wobble))
            }
        }
        curves = curves.map { catmullRom($0, samplesPerSegment: 8) }
        // 2. affine: centre, aspect, shear, rotate
        let angle = st.rotationDegrees * rng.nextUniform(-1, 1) * .pi / 180
        let shear = st.shear * rng.nextUniform(-1, 1)
        let aspect = 1 + st.aspect * rng.nextUniform(-1, 1)
        let (c, s) = (cosf(angle), sinf(angle))
        curves = curves.map { $0.map { p in
            let q = SIMD2(p.x - 0.375, p.y - 0.5)
            let sx = q.x * aspect + shear * q.y
            return SIMD2(c * sx - s * q.y, s * sx + c * q.y)
        } }
        // 3. scale so the longer side spans 20·scale px
        let all = curves.flatMap { $0 }
        let lo = all.reduce(SIMD2<Float>(.infinity, .infinity)) { pointwiseMin($0, $1) }
        let hi = all.reduce(SIMD2<Float>(-.infinity, -.infinity)) { pointwiseMax($0, $1) }
        let extent = max(hi.x - lo.x, hi.y - lo.y, 1e-3)
        let pixels = 20 * rng.nextUniform(st.scale.lowerBound, st.scale.upperBound) / extent
        curves = curves.map { $0.map { $0 * pixels } }
        // 4. centre of mass (stroke length weighted) at the image centre, plus a translation
        var mass = SIMD2<Float>(0, 0), length: Float = 0
        for curve in curves where curve.count > 1 {
            for i in 1..<curve.count {
                let l = simdLength(curve[i] - curve[i - 1])
                mass += l * (curve[i] + curve[i - 1]) / 2; length += l
            }
        }
        let centre = length > 0 ? mass / length : SIMD2(0, 0)
        let shift = SIMD2<Float>(14, 14) - centre +
            SIMD2(st.translation * rng.nextUniform(-1, 1), st.translation * rng.nextUniform(-1, 1))
        curves = curves.map { $0.map { $0 + shift } }
        let width = rng.nextUniform(st.strokeWidth.lowerBound, st.strokeWidth.upperBound)
        // keep the ink inside the image with a 1 px margin (centring can push a top-heavy 7 off)
        let margin = width / 2 + 1.5
        let lo2 = curves.flatMap { $0 }.reduce(SIMD2<Float>(.infinity, .infinity)) { pointwiseMin($0, $1) }
        let hi2 = curves.flatMap { $0 }.reduce(SIMD2<Float>(-.infinity, -.infinity)) { pointwiseMax($0, $1) }
        var fix = SIMD2<Float>(0, 0)
        for axis in 0..<2 {
            if lo2[axis] < margin { fix[axis] = margin - lo2[axis] }
            else if hi2[axis] > 28 - margin { fix[axis] = 28 - margin - hi2[axis] }
        }
        curves = curves.map { $0.map { $0 + fix } }
        let ink = rng.nextUniform(st.ink.lowerBound, st.ink.upperBound)
        return rasterise(curves, penWidth: width, ink: ink)
    }

    /// Anti-aliased rendering of polylines (pixel (x, y) has its centre at (x + 0.5, y + 0.5)).
    func rasterise(_ curves: [[SIMD2<Float>]], penWidth: Float, ink: Float) -> [UInt8] {
        let n = Self.side
        var segments: [(SIMD2<Float>, SIMD2<Float>)] = []
        for curve in curves {
            if curve.count == 1 { segments.append((curve[0], curve[0])) }
            for i in stride(from: 1, to: curve.count, by: 1) { segments.append((curve[i - 1], curve[i])) }
        }
        var image = [UInt8](repeating: 0, count: n * n)
        let reach = penWidth / 2 + 0.5
        for y in 0..<n {
            for x in 0..<n {
                let p = SIMD2(Float(x) + 0.5, Float(y) + 0.5)
                var d2 = Float.infinity
                for (a, b) in segments { d2 = min(d2, distanceSquared(p, a, b)) }
                let d = d2.squareRoot()
                if d < reach {
                    let coverage = min(max(reach - d, 0), 1)
                    image[y * n + x] = UInt8((coverage * ink * 255).rounded())
                }
            }
        }
        return image
    }
}

@inline(__always) func simdLength(_ v: SIMD2<Float>) -> Float { (v * v).sum().squareRoot() }

/// Squared distance from p to the segment ab.
@inline(__always)
func distanceSquared(_ p: SIMD2<Float>, _ a: SIMD2<Float>, _ b: SIMD2<Float>) -> Float {
    let ab = b - a, ap = p - a
    let l2 = (ab * ab).sum()
    let t = l2 > 0 ? min(max((ap * ab).sum() / l2, 0), 1) : 0
    let q = ap - t * ab
    return (q * q).sum()
}

/// Catmull–Rom spline through the control points (end points duplicated), sampled
/// `samplesPerSegment` times per span.
func catmullRom(_ points: [SIMD2<Float>], samplesPerSegment: Int) -> [SIMD2<Float>] {
    guard points.count > 2 else { return points }
    var out: [SIMD2<Float>] = []
    for i in 0..<(points.count - 1) {
        let p0 = points[max(i - 1, 0)], p1 = points[i], p2 = points[i + 1], p3 = points[min(i + 2, points.count - 1)]
        for k in 0..<samplesPerSegment {
            let t = Float(k) / Float(samplesPerSegment), t2 = t * t, t3 = t2 * t
            let a = 2 * p1
            let b = (p2 - p0) * t
            let c = (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2
            let d = (3 * p1 - p0 - 3 * p2 + p3) * t3
            out.append(0.5 * (a + b + c + d))
        }
    }
    out.append(points[points.count - 1])
    return out
}

/// Stroke templates: per digit, style variants; per variant, strokes; per stroke, control
/// points in a unit box (x 0…1 left→right, y 0…1 top→bottom).
enum DigitTemplates {
    typealias P = SIMD2<Float>
    static func ellipse(cx: Float, cy: Float, rx: Float, ry: Float, from start: Float = -90,
                        sweep: Float = 370, points: Int = 12) -> [P] {
        (0...points).map { k in
            let a = (start + sweep * Float(k) / Float(points)) * .pi / 180
            return P(cx + rx * cosf(a), cy + ry * sinf(a))
        }
    }

    static let variants: [[[[P]]]] = [
        // 0: oval; narrower oval closing with an overlap at the top-left
        [[ellipse(cx: 0.5, cy: 0.5, rx: 0.66, ry: 0.5)],
         [ellipse(cx: 0.5, cy: 0.5, rx: 0.48, ry: 0.5, from: -120, sweep: 380)]],
        // 1: plain bar; with a flag; with flag and foot
        [[[P(0.55, 0), P(0.5, 0.5), P(0.45, 1)]],
         [[P(0.2, 0.25), P(0.55, 0)], [P(0.55, 0), P(0.5, 0.5), P(0.45, 1)]],
         [[P(0.25, 0.2), P(0.55, 0)], [P(0.55, 0), P(0.5, 1)], [P(0.25, 1), P(0.8, 1)]]],
        // 2: curved neck, flat base; with a small loop at the base
        [[[P(0.1, 0.25), P(0.45, 0), P(0.9, 0.2), P(0.75, 0.5), P(0.1, 1), P(0.95, 0.97)]],
         [[P(0.1, 0.2), P(0.5, 0), P(0.85, 0.25), P(0.55, 0.65), P(0.15, 0.95), P(0.3, 0.8), P(0.45, 0.95), P(0.95, 1)]]],
        // 3: round top; flat top
        [[[P(0.1, 0.1), P(0.5, 0), P(0.85, 0.2), P(0.45, 0.47), P(0.9, 0.7), P(0.55, 1), P(0.1, 0.88)]],
         [[P(0.1, 0), P(0.85, 0), P(0.4, 0.42), P(0.9, 0.65), P(0.6, 1), P(0.1, 0.9)]]],
        // 4: closed (triangle); open
        [[[P(0.7, 1), P(0.7, 0), P(0.05, 0.68), P(0.95, 0.68)]],
         [[P(0.15, 0), P(0.1, 0.6), P(0.95, 0.6)], [P(0.7, 0.15), P(0.7, 1)]]],
        // 5: one stroke; separate top bar
        [[[P(0.85, 0), P(0.25, 0), P(0.2, 0.45), P(0.6, 0.38), P(0.9, 0.65), P(0.55, 1), P(0.1, 0.9)]],
         [[P(0.25, 0.02), P(0.2, 0.45), P(0.6, 0.38), P(0.9, 0.68), P(0.5, 1), P(0.1, 0.88)], [P(0.25, 0), P(0.9, 0.02)]]],
        // 6: round belly; straighter back
        [[[P(0.75, 0), P(0.35, 0.3), P(0.12, 0.7), P(0.4, 1), P(0.8, 0.85), P(0.75, 0.55), P(0.4, 0.5), P(0.15, 0.72)]],
         [[P(0.7, 0), P(0.25, 0.45), P(0.2, 0.9), P(0.55, 1), P(0.85, 0.78), P(0.55, 0.55), P(0.2, 0.7)]]],
        // 7: plain; with a bar; with a hooked stem
        [[[P(0.05, 0.02), P(0.95, 0), P(0.55, 0.5), P(0.35, 1)]],
         [[P(0.05, 0.02), P(0.95, 0), P(0.55, 0.5), P(0.35, 1)], [P(0.3, 0.5), P(0.8, 0.48)]],
         [[P(0.05, 0.1), P(0.1, 0), P(0.95, 0.02), P(0.7, 0.4), P(0.55, 1)]]],
        // 8: one-stroke figure eight; two stacked loops
        [[[P(0.5, 0.48), P(0.2, 0.25), P(0.5, 0), P(0.8, 0.22), P(0.5, 0.48), P(0.12, 0.75), P(0.5, 1), P(0.88, 0.75), P(0.5, 0.48)]],
         [ellipse(cx: 0.5, cy: 0.24, rx: 0.3, ry: 0.24, points: 10), ellipse(cx: 0.5, cy: 0.73, rx: 0.4, ry: 0.27, points: 10)]],
        // 9: loop and straight stem; loop and curved stem
        [[[P(0.85, 0.25), P(0.5, 0.45), P(0.15, 0.25), P(0.5, 0), P(0.85, 0.2), P(0.8, 0.45), P(0.7, 1)]],
         [[P(0.85, 0.2), P(0.5, 0.42), P(0.15, 0.22), P(0.5, 0), P(0.85, 0.15), P(0.8, 0.65), P(0.5, 1), P(0.2, 0.9)]]],
    ]
}
