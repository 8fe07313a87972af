import Foundation
import SpikeTensor
import EventIO

/// Derivation of independent random streams from one dataset seed.
///
/// Every synthesised sample draws from its own `SeededGenerator`, seeded by a hash of
/// (dataset seed, sample index, stream tag). The result of a parallel synthesis therefore
/// does not depend on which thread produced which sample, or in which order.
public enum EmulationSeeds {
    /// Named streams, so that e.g. the visual and the audio half of a pair never share draws.
    public enum Stream: UInt64, Sendable {
        case pairing = 1, glyph = 2, dvs = 3, speech = 4, cochlea = 5, corruption = 6, speakers = 7
    }

    /// A 64-bit seed mixed from `(seed, index, stream)` with SplitMix64 finalisers.
    public static func derive(seed: UInt64, index: Int, stream: Stream) -> UInt64 {
        var z = mix(seed ^ 0x5370_696B_6546_7573)          // "SpikeFus"
        z = mix(z &+ UInt64(bitPattern: Int64(index)) &* 0x9E37_79B9_7F4A_7C15)
        z = mix(z ^ (stream.rawValue &* 0xD1B5_4A32_D192_ED03))
        return z
    }

    /// A generator for `(seed, index, stream)`.
    public static func generator(seed: UInt64, index: Int, stream: Stream) -> SeededGenerator {
        SeededGenerator(seed: derive(seed: seed, index: index, stream: stream))
    }

    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SeededGenerator {
    /// A Gaussian draw with mean `mean` and standard deviation `sigma`, as Float.
    @inline(__always)
    mutating func gaussian(mean: Float = 0, sigma: Float) -> Float {
        mean + sigma * Float(nextGaussian())
    }

    /// An exponential waiting time with rate `rate` (same unit⁻¹ as the result).
    @inline(__always)
    mutating func exponential(rate: Double) -> Double {
        -log(max(1 - nextDouble(), 1e-300)) / rate
    }
}

