// safetensors reader and writer (the format of Hugging Face's `safetensors` package).
//
// Layout of a file:
//   bytes 0..<8      N, the header length, u64 little-endian
//   bytes 8..<8+N    UTF-8 JSON: {"name": {"dtype": "F32", "shape": [2, 3],
//                    "data_offsets": [begin, end]}, …, "__metadata__": {"key": "value"}}
//                    (writers pad it with spaces to a multiple of 8 bytes)
//   bytes 8+N..<end  the data buffer; offsets are relative to its start; every tensor is
//                    little-endian and row-major; the tensors tile the buffer exactly.
//
// Everything is validated before any tensor byte is read, because release builds run
// with -Ounchecked (no bounds checks): a corrupt file gives a `SafeTensorsError`, never
// a crash.

import AtomicFiles
import Foundation
import SpikeTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What is wrong with a safetensors file (or with tensors about to be written). Every
/// case names the file (`source`) and, where there is one, the tensor.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened or read.
    case unreadable(source: String, reason: String)
    /// Fewer than the 8 bytes of the header-length prefix.
    case truncatedHeader(source: String, byteCount: Int)
    /// The header-length prefix points past the end of the file.
    case headerLengthBeyondFile(source: String, headerLength: UInt64, fileSize: Int)
    /// The header is larger than the 100 MB that any safetensors writer produces.
    case headerTooLarge(source: String, headerLength: UInt64, limit: Int)
    /// The header is not valid JSON or not the expected structure; `offset` is the byte
    /// offset in the file where the problem was found, when known.
    case badJSON(source: String, offset: Int?, reason: String)
    /// A tensor entry lacks a field or has one of the wrong type.
    case badEntry(source: String, name: String, reason: String)
    /// A dtype this reader does not convert.
    case unknownDType(source: String, name: String, dtype: String)
    /// `data_offsets` lie outside the data buffer or are reversed.
    case offsetsOutOfRange(source: String, name: String, begin: Int, end: Int, bufferSize: Int)
    /// Two tensors share bytes of the data buffer.
    case overlappingOffsets(source: String, name: String, other: String)
    /// Bytes `gapBegin..<gapEnd` of the data buffer belong to no tensor.
    case bufferNotCovered(source: String, gapBegin: Int, gapEnd: Int)
    /// shape × dtype size differs from the byte range given by `data_offsets`.
    case sizeMismatch(source: String, name: String, shape: [Int], dtype: String,
                      expectedBytes: Int, actualBytes: Int)
    /// The same tensor name appears twice.
    case duplicateName(source: String, name: String)
    /// A name that cannot be written (empty or the reserved `__metadata__`).
    case invalidName(source: String, name: String, reason: String)
    /// A tensor that was asked for is not in the file.
    case missingTensor(source: String, name: String)
    /// Writing the file failed.
    case writeFailed(source: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(source, reason):
            return "\(source): cannot read safetensors file: \(reason)"
        case let .truncatedHeader(source, count):
            return "\(source): truncated header: the file has \(count) bytes, but a safetensors file starts with an 8-byte header length"
        case let .headerLengthBeyondFile(source, length, size):
            return "\(source): header length \(length) (bytes 0..<8) reaches beyond the end of the file (\(size) bytes); the file is truncated or not safetensors"
        case let .headerTooLarge(source, length, limit):
            return "\(source): header length \(length) exceeds the limit of \(limit) bytes; the file is not safetensors"
        case let .badJSON(source, offset, reason):
            let at = offset.map { " at byte \($0)" } ?? ""
            return "\(source): bad JSON header\(at): \(reason)"
        case let .badEntry(source, name, reason):
            return "\(source): tensor '\(name)': \(reason)"
        case let .unknownDType(source, name, dtype):
            return "\(source): tensor '\(name)' has unknown dtype '\(dtype)' (supported: \(SafeTensors.supportedDTypes.joined(separator: ", ")))"
        case let .offsetsOutOfRange(source, name, begin, end, size):
            return "\(source): tensor '\(name)' has data_offsets [\(begin), \(end)] outside the data buffer of \(size) bytes"
        case let .overlappingOffsets(source, name, other):
            return "\(source): tensors '\(other)' and '\(name)' overlap in the data buffer"
        case let .bufferNotCovered(source, begin, end):
            return "\(source): bytes \(begin)..<\(end) of the data buffer belong to no tensor (offsets must tile the buffer)"
        case let .sizeMismatch(source, name, shape, dtype, expected, actual):
            return "\(source): tensor '\(name)' of shape \(shape) and dtype \(dtype) needs \(expected) bytes, but data_offsets give \(actual)"
        case let .duplicateName(source, name):
            return "\(source): tensor name '\(name)' appears more than once"
        case let .invalidName(source, name, reason):
            return "\(source): invalid tensor name '\(name)': \(reason)"
        case let .missingTensor(source, name):
            return "\(source): no tensor named '\(name)'"
        case let .writeFailed(source, reason):
            return "\(source): cannot write safetensors file: \(reason)"
        }
    }
}

/// The decoded content of a safetensors file.
public struct SafeTensorsFile: Sendable {
    /// Every tensor, converted to Float32 (integers and booleans become their values).
    public var tensors: [String: Tensor]
    /// The original dtype of each tensor ("F32", "F16", "I64", …).
    public var dtypes: [String: String]
    /// The string-to-string `__metadata__` object (empty when absent).
    public var metadata: [String: String]
    /// Tensor names in file order (sorted by data offset).
    public var names: [String]
    /// Where the tensors came from, for error messages.
    public var source: String

    public init(tensors: [String: Tensor], dtypes: [String: String], metadata: [String: String],
                names: [String], source: String = "<memory>") {
        self.tensors = tensors
        self.dtypes = dtypes
        self.metadata = metadata
        self.names = names
        self.source = source
    }

    /// The tensor called `name`, or `SafeTensorsError.missingTensor`.
    public func tensor(named name: String) throws(SafeTensorsError) -> Tensor {
        guard let t = tensors[name] else { throw .missingTensor(source: source, name: name) }
        return t
    }
}

/// Reading and writing safetensors files.
///
/// ```swift
/// try SafeTensors.write([("fc.weight", w), ("fc.bias", b)],
///                       metadata: ["config": json], to: url)
/// let file = try SafeTensors.read(url)
/// let w2 = try file.tensor(named: "fc.weight")
/// ```
/// PyTorch reads what `write` produces with `safetensors.torch.load_file(path)`.
public enum SafeTensors {
    /// Header lengths above this are rejected (the limit of the reference Rust reader).
    public static let maxHeaderLength = 100_000_000

    /// The dtypes `decode` converts to Float32, with their sizes in bytes.
    static let dtypeSizes: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2,
        "I64": 8, "I32": 4, "I16": 2, "I8": 1,
        "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1,
    ]
    static let supportedDTypes = ["F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8",
                                  "U64", "U32", "U16", "U8", "BOOL"]

    /// Reads and decodes the file at `url`.
    public static func read(_ url: URL) throws(SafeTensorsError) -> SafeTensorsFile {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .unreadable(source: url.path, reason: "\(error.localizedDescription)")
        }
        return try decode([UInt8](data), source: url.path)
    }

    /// One header entry after validation.
    private struct Entry {
        var name: String
        var dtype: String
        var shape: [Int]
        var begin: Int
        var end: Int
        var headerIndex: Int
    }

    /// Decodes a whole safetensors file held in memory; `source` names it in errors.
    public static func decode(_ bytes: [UInt8], source: String) throws(SafeTensorsError) -> SafeTensorsFile {
        // 1. Header length prefix.
        guard bytes.count >= 8 else { throw .truncatedHeader(source: source, byteCount: bytes.count) }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(maxHeaderLength) else {
            throw .headerTooLarge(source: source, headerLength: headerLength, limit: maxHeaderLength)
        }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw .headerLengthBeyondFile(source: source, headerLength: headerLength, fileSize: bytes.count)
        }
        let headerEnd = 8 + Int(headerLength)
        let bufferSize = bytes.count - headerEnd

        // 2. JSON header.
        let root: _JSONValue
        do {
            root = try _JSONParser.parse(Array(bytes[8..<headerEnd]))
        } catch {
            throw .badJSON(source: source, offset: 8 + error.offset, reason: error.message)
        }
        guard case let .object(members) = root else {
            throw .badJSON(source: source, offset: 8, reason: "the header is a JSON \(root.kindName), not an object")
        }

        // 3. Entries: structure, dtype, shape × size against offsets, offsets in range.
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        var seen = Set<String>()
        for (index, member) in members.enumerated() {
            let name = member.key
            guard seen.insert(name).inserted else { throw .duplicateName(source: source, name: name) }
            if name == "__metadata__" {
                guard case let .object(pairs) = member.value else {
                    throw .badJSON(source: source, offset: nil,
                                   reason: "__metadata__ is a \(member.value.kindName), not an object of strings")
                }
                for member in pairs {
                    let key = member.key, value = member.value
                    guard case let .string(text) = value else {
                        throw .badJSON(source: source, offset: nil,
                                       reason: "__metadata__ value for '\(key)' is a \(value.kindName), not a string")
                    }
                    guard metadata.updateValue(text, forKey: key) == nil else {
                        throw .badJSON(source: source, offset: nil, reason: "__metadata__ key '\(key)' appears twice")
                    }
                }
                continue
            }
            entries.append(try validateEntry(name: name, value: member.value, index: index,
                                             bufferSize: bufferSize, source: source))
        }

        // 4. The byte ranges must tile the buffer: no overlap, no gap.
        entries.sort { ($0.begin, $0.end, $0.headerIndex) < ($1.begin, $1.end, $1.headerIndex) }
        var covered = 0
        var previous: String? = nil
        for entry in entries {
            if entry.begin < covered {
                throw .overlappingOffsets(source: source, name: entry.name, other: previous ?? "")
            }
            if entry.begin > covered {
                throw .bufferNotCovered(source: source, gapBegin: covered, gapEnd: entry.begin)
            }
            covered = entry.end
            previous = entry.name
        }
        if covered != bufferSize {
            throw .bufferNotCovered(source: source, gapBegin: covered, gapEnd: bufferSize)
        }

        // 5. Conversion (all ranges proven inside `bytes`).
        var tensors: [String: Tensor] = [:]
        var dtypes: [String: String] = [:]
        for entry in entries {
            let scalars = convert(bytes, from: headerEnd + entry.begin, to: headerEnd + entry.end,
                                  dtype: entry.dtype)
            tensors[entry.name] = Tensor(shape: entry.shape, scalars: scalars)
            dtypes[entry.name] = entry.dtype
        }
        return SafeTensorsFile(tensors: tensors, dtypes: dtypes, metadata: metadata,
                               names: entries.map(\.name), source: source)
    }

    private static func validateEntry(name: String, value: _JSONValue, index: Int, bufferSize: Int,
                                      source: String) throws(SafeTensorsError) -> Entry {
        guard case let .object(fields) = value else {
            throw .badEntry(source: source, name: name, reason: "entry is a \(value.kindName), not an object")
        }
        func field(_ key: String) throws(SafeTensorsError) -> _JSONValue {
            let matches = fields.filter { $0.key == key }
            guard matches.count == 1 else {
                throw .badEntry(source: source, name: name,
                                reason: matches.isEmpty ? "missing '\(key)'" : "'\(key)' appears twice")
            }
            return matches[0].value
        }
        guard case let .string(dtype) = try field("dtype") else {
            throw .badEntry(source: source, name: name, reason: "'dtype' is not a string")
        }
        guard let elementSize = dtypeSizes[dtype] else {
            throw .unknownDType(source: source, name: name, dtype: dtype)
        }
        guard case let .array(shapeValues) = try field("shape") else {
            throw .badEntry(source: source, name: name, reason: "'shape' is not an array")
        }
        var shape: [Int] = []
        var elementCount = 1
        var overflow = false
        for v in shapeValues {
            guard case let .integer(d) = v, d >= 0 else {
                throw .badEntry(source: source, name: name, reason: "'shape' holds \(v) — dimensions must be non-negative integers")
            }
            shape.append(d)
            let (product, o) = elementCount.multipliedReportingOverflow(by: d)
            overflow = overflow || o
            elementCount = product
        }
        guard case let .array(offsetValues) = try field("data_offsets"), offsetValues.count == 2,
              case let .integer(begin) = offsetValues[0], case let .integer(end) = offsetValues[1] else {
            throw .badEntry(source: source, name: name, reason: "'data_offsets' is not a pair of integers")
        }
        guard begin >= 0, end >= begin, end <= bufferSize else {
            throw .offsetsOutOfRange(source: source, name: name, begin: begin, end: end, bufferSize: bufferSize)
        }
        let (byteCount, o2) = elementCount.multipliedReportingOverflow(by: elementSize)
        guard !overflow, !o2, byteCount == end - begin else {
            throw .sizeMismatch(source: source, name: name, shape: shape, dtype: dtype,
                                expectedBytes: (overflow || o2) ? Int.max : byteCount, actualBytes: end - begin)
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end, headerIndex: index)
    }

    /// Converts bytes `begin..<end` (already validated, a whole number of elements) to Float32.
    private static func convert(_ bytes: [UInt8], from begin: Int, to end: Int, dtype: String) -> [Float] {
        bytes.withUnsafeBytes { raw -> [Float] in
            func load<T: FixedWidthInteger>(_: T.Type, _ f: (T) -> Float) -> [Float] {
                let size = MemoryLayout<T>.size
                let count = (end - begin) / size
                return [Float](unsafeUninitializedCapacity: count) { out, initialised in
                    for i in 0..<count {
                        out[i] = f(T(littleEndian: raw.loadUnaligned(fromByteOffset: begin + i * size, as: T.self)))
                    }
                    initialised = count
                }
            }
            switch dtype {
            case "F32": return load(UInt32.self) { Float(bitPattern: $0) }
            case "F64": return load(UInt64.self) { Float(Double(bitPattern: $0)) }
            case "F16": return load(UInt16.self) { halfToFloat($0) }
            case "BF16": return load(UInt16.self) { Float(bitPattern: UInt32($0) << 16) }
            case "I64": return load(Int64.self) { Float($0) }
            case "I32": return load(Int32.self) { Float($0) }
            case "I16": return load(Int16.self) { Float($0) }
            case "I8": return load(Int8.self) { Float($0) }
            case "U64": return load(UInt64.self) { Float($0) }
            case "U32": return load(UInt32.self) { Float($0) }
            case "U16": return load(UInt16.self) { Float($0) }
            case "U8": return load(UInt8.self) { Float($0) }
            case "BOOL": return load(UInt8.self) { $0 == 0 ? 0 : 1 }
            default: return []  // unreachable: dtypes were validated against dtypeSizes
            }
        }
    }

    /// IEEE 754 binary16 → binary32 (exact; subnormals, infinities and NaN included).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            // Zero or subnormal: mantissa · 2^-24.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }

    // MARK: Writing

    /// Encodes `tensors` as F32 in the given order, with `metadata` as `__metadata__`
    /// (omitted when empty). The header is padded with spaces to a multiple of 8 bytes.
    public static func encode(_ tensors: [(name: String, tensor: Tensor)],
                              metadata: [String: String]) throws(SafeTensorsError) -> [UInt8] {
        try encode(tensors, metadata: metadata, source: "<memory>")
    }

    /// `encode` with `source` naming the file the bytes are for, in errors.
    public static func encode(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String],
                       source: String) throws(SafeTensorsError) -> [UInt8] {
        var seen = Set<String>()
        for (name, _) in tensors {
            guard !name.isEmpty else { throw .invalidName(source: source, name: name, reason: "empty name") }
            guard name != "__metadata__" else {
                throw .invalidName(source: source, name: name, reason: "reserved for the metadata object")
            }
            guard seen.insert(name).inserted else { throw .duplicateName(source: source, name: name) }
        }
        var header: [UInt8] = [UInt8(ascii: "{")]
        var first = true
        func separator() {
            if !first { header.append(UInt8(ascii: ",")) }
            first = false
        }
        if !metadata.isEmpty {
            separator()
            _appendJSONString("__metadata__", to: &header)
            header.append(contentsOf: Array(":{".utf8))
            for (i, key) in metadata.keys.sorted().enumerated() {
                if i > 0 { header.append(UInt8(ascii: ",")) }
                _appendJSONString(key, to: &header)
                header.append(UInt8(ascii: ":"))
                _appendJSONString(metadata[key]!, to: &header)
            }
            header.append(UInt8(ascii: "}"))
        }
        var offset = 0
        for (name, tensor) in tensors {
            separator()
            _appendJSONString(name, to: &header)
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            let end = offset + 4 * tensor.count
            header.append(contentsOf: Array(":{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}".utf8))
            offset = end
        }
        header.append(UInt8(ascii: "}"))
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }

        var out = [UInt8]()
        out.reserveCapacity(8 + header.count + offset)
        let n = UInt64(header.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(i)))) }
        out.append(contentsOf: header)
        for (_, tensor) in tensors {
            for x in tensor.scalars {
                let bits = x.bitPattern
                out.append(UInt8(truncatingIfNeeded: bits))
                out.append(UInt8(truncatingIfNeeded: bits >> 8))
                out.append(UInt8(truncatingIfNeeded: bits >> 16))
                out.append(UInt8(truncatingIfNeeded: bits >> 24))
            }
        }
        return out
    }

    /// Writes `tensors` as F32 (names in the given order) and `metadata` to `url`,
    /// atomically: the bytes go to a temporary file in the same folder, which is then
    /// renamed over `url`, so a reader never sees a half-written file.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:],
                             to url: URL) throws(SafeTensorsError) {
        let path = url.path
        let bytes = try encode(tensors, metadata: metadata, source: path)
        do { try AtomicFile.write(bytes, to: url) } catch {
            throw .writeFailed(source: path, reason: error.reason)
        }
    }
}
