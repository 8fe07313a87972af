import SpikeTensor

/// A bounds-checked reader of the few FlatBuffers constructs AEDAT 4.0 uses: a (size-prefixed)
/// root table with a 4-character file identifier, scalar fields with defaults, string fields
/// and vectors of fixed-size structs. Debian ships no FlatBuffers runtime for Swift.
///
/// Every read checks its offsets against the buffer first and throws
/// `EventIOError.malformed` naming `source` and the byte offset (`base` + position in the
/// buffer, so offsets are the file's). Nothing here traps on any input.
struct _FlatBuffer {
    let bytes: [UInt8]
    /// The range of `bytes` holding the buffer.
    let start: Int, end: Int
    /// File offset of `bytes[start]`, for error messages.
    let base: Int
    let source: String
    let what: String

    init(_ bytes: [UInt8], start: Int = 0, end: Int? = nil, base: Int, source: String, what: String) {
        self.bytes = bytes; self.start = start; self.end = end ?? bytes.count
        self.base = base; self.source = source; self.what = what
    }

    func fail(_ position: Int, _ detail: String) -> EventIOError {
        .malformed(file: source, detail: "\(what) at byte offset \(base + position - start): \(detail)")
    }

    /// Checks that `count` bytes at `position` lie inside the buffer.
    func check(_ position: Int, _ count: Int, _ name: String) throws {
        guard position >= start, count >= 0, position <= end, count <= end - position else {
            throw fail(max(start, min(position, end)), "\(name) (\(count) bytes at buffer offset \(position - start)) runs outside the \(end - start)-byte buffer")
        }
    }

    func u8(_ p: Int) throws -> UInt8 { try check(p, 1, "a byte"); return bytes[p] }
    func u16(_ p: Int) throws -> UInt16 {
        try check(p, 2, "a 16-bit field")
        return UInt16(bytes[p]) | UInt16(bytes[p + 1]) << 8
    }
    func u32(_ p: Int) throws -> UInt32 {
        try check(p, 4, "a 32-bit field")
        return bytes.withUnsafeBytes { $0._littleEndianUInt32(at: p) }
    }
    func i32(_ p: Int) throws -> Int32 { Int32(bitPattern: try u32(p)) }
    func i64(_ p: Int) throws -> Int64 {
        try check(p, 8, "a 64-bit field")
        return bytes.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(fromByteOffset: p, as: Int64.self)) }
    }

    /// The root table's position, after checking the 4-character identifier at start + 4.
    func root(identifier: String) throws -> Int {
        let id = Array(identifier.utf8)
        try check(start, 8, "the root offset and identifier")
        guard Array(bytes[(start + 4)..<(start + 8)]) == id else {
            let found = String(decoding: bytes[(start + 4)..<(start + 8)], as: UTF8.self)
                .unicodeScalars.map { $0.isASCII && $0.value >= 32 ? String($0) : "?" }.joined()
            throw fail(start + 4, "identifier '\(found)', expected '\(identifier)'")
        }
        let table = start + Int(try u32(start))
        try check(table, 4, "the root table")
        return table
    }

    /// The position of field `index` of the table at `table`, or nil when absent (default).
    func field(_ table: Int, _ index: Int) throws -> Int? {
        let vtable = table - Int(try i32(table))
        let vtableSize = Int(try u16(vtable))
        guard vtableSize >= 4, vtableSize % 2 == 0 else { throw fail(vtable, "vtable size \(vtableSize) is not an even number ≥ 4") }
        try check(vtable, vtableSize, "the vtable")
        let entry = 4 + 2 * index
        guard entry + 2 <= vtableSize else { return nil }
        let offset = Int(try u16(vtable + entry))
        guard offset != 0 else { return nil }
        let tableSize = Int(try u16(vtable + 2))
        guard offset < tableSize else { throw fail(vtable, "field \(index) at offset \(offset) lies beyond the table's \(tableSize) bytes") }
        return table + offset
    }

    /// The target of the unsigned offset stored at `position` (strings, vectors, tables).
    func indirect(_ position: Int) throws -> Int { position + Int(try u32(position)) }

    /// A string field's bytes, or nil when absent.
    func string(_ table: Int, _ index: Int) throws -> ArraySlice<UInt8>? {
        guard let f = try field(table, index) else { return nil }
        let s = try indirect(f)
        let length = Int(try u32(s))
        try check(s + 4, length, "a string")
        return bytes[(s + 4)..<(s + 4 + length)]
    }

    /// A vector of structs field: where its elements start and how many there are, after
    /// checking that count × stride bytes fit. (0, 0) when absent.
    func structVector(_ table: Int, _ index: Int, stride: Int) throws -> (start: Int, count: Int) {
        guard let f = try field(table, index) else { return (0, 0) }
        let v = try indirect(f)
        let count = Int(try u32(v))
        let (size, overflow) = count.multipliedReportingOverflow(by: stride)
        guard !overflow else { throw fail(v, "vector of \(count) elements is too large") }
        try check(v + 4, size, "a vector of \(count) \(stride)-byte elements")
        return (v + 4, count)
    }
}

extension _FlatBuffer {
    /// A vector of tables field: the position of each element table. [] when absent.
    func tableVector(_ table: Int, _ index: Int) throws -> [Int] {
        let (start, count) = try structVector(table, index, stride: 4)
        return try (0..<count).map { try indirect(start + 4 * $0) }
    }
}
