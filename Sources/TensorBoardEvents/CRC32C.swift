/// CRC-32C (Castagnoli): the checksum TFRecord framing uses.
///
/// Reflected polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF, one table lookup
/// a byte. Check value: CRC-32C("123456789") = 0xE3069283 (RFC 3720, appendix B.4).
public enum CRC32C {
    /// `table[b]`: the CRC register after shifting byte `b` through 8 reflected steps.
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    /// The CRC-32C of `bytes`.
    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    /// TFRecord's masked CRC: rotate right by 15 bits, add 0xA282EAD8 (mod 2³²). Masking
    /// keeps a CRC of data that itself holds CRCs from being degenerate.
    public static func masked<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        let c = checksum(bytes)
        return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
    }
}
