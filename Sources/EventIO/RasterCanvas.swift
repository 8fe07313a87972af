import SpikeTensor

/// An 8-bit RGB pixel buffer with the few drawing operations the event pictures need,
/// including a 3×5-pixel bitmap font for axis labels (digits and a handful of letters).
public struct RasterCanvas: Sendable {
    public let width: Int
    public let height: Int
    /// Row-major RGB, 3 bytes per pixel, origin top left.
    public private(set) var rgb: [UInt8]

    public typealias Color = (r: UInt8, g: UInt8, b: UInt8)

    public init(width: Int, height: Int, background: Color) {
        self.width = width; self.height = height
        rgb = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) { rgb[3 * i] = background.r; rgb[3 * i + 1] = background.g; rgb[3 * i + 2] = background.b }
    }

    /// Sets one pixel; coordinates outside the canvas are ignored.
    public mutating func set(_ x: Int, _ y: Int, _ c: Color) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        let i = 3 * (y * width + x)
        rgb[i] = c.r; rgb[i + 1] = c.g; rgb[i + 2] = c.b
    }

    /// The colour of one pixel.
    public func pixel(_ x: Int, _ y: Int) -> Color {
        let i = 3 * (y * width + x)
        return (rgb[i], rgb[i + 1], rgb[i + 2])
    }

    /// Fills the rectangle [x, x + w) × [y, y + h) (clipped).
    public mutating func fill(x: Int, y: Int, w: Int, h: Int, _ c: Color) {
        // Clipped to the canvas; a box wholly outside it (or empty) draws nothing.
        let top = max(0, y), bottom = min(height, y + h), left = max(0, x), right = min(width, x + w)
        guard top < bottom, left < right else { return }
        for yy in top..<bottom {
            for xx in left..<right { set(xx, yy, c) }
        }
    }

    /// Draws `text` with the 3×5 font, each font pixel `scale`² screen pixels, top-left at (x, y).
    /// Characters without a glyph leave a gap.
    public mutating func text(_ text: String, x: Int, y: Int, scale: Int = 2, _ c: Color) {
        var cx = x
        for ch in text {
            if let rows = RasterCanvas.glyphs[ch] {
                for (r, bits) in rows.enumerated() {
                    for col in 0..<3 where bits & (4 >> col) != 0 {
                        fill(x: cx + col * scale, y: y + r * scale, w: scale, h: scale, c)
                    }
                }
            }
            cx += 4 * scale
        }
    }

    /// Width in pixels of `text` drawn at `scale`.
    public static func textWidth(_ text: String, scale: Int = 2) -> Int { max(0, text.count * 4 * scale - scale) }

    /// 3×5 glyphs: five rows, top first, each 3 bits (4 = left column).
    static let glyphs: [Character: [UInt8]] = [
        "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7],
        "4": [5, 5, 7, 1, 1], "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 1, 1],
        "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7], "-": [0, 0, 7, 0, 0], ".": [0, 0, 0, 0, 2],
        "m": [0, 6, 7, 5, 5], "s": [0, 3, 6, 1, 6], "t": [2, 7, 2, 2, 3], "c": [0, 7, 4, 4, 7],
        "h": [4, 4, 7, 5, 5], "a": [0, 7, 3, 5, 7], "n": [0, 6, 5, 5, 5], "e": [0, 7, 7, 4, 7],
        "l": [6, 2, 2, 2, 7], "O": [7, 5, 5, 5, 7], "N": [5, 7, 7, 7, 5], "F": [7, 4, 6, 4, 4],
        "(": [2, 4, 4, 4, 2], ")": [2, 1, 1, 1, 2], "/": [1, 1, 2, 4, 4],
    ]
}
