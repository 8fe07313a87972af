import SpikeTensor

// A small, strict JSON parser for safetensors headers.
//
// Foundation's JSONSerialization silently keeps one of two equal keys and forgets the
// key order; a safetensors header must reject duplicate tensor names, so the header is
// parsed here by hand. The parser checks every index before reading (release builds use
// -Ounchecked), limits nesting depth (no stack overflow on "[[[[…"), and keeps integers
// exact (tensor offsets can exceed 2^53).

/// A parsed JSON value. Objects keep their members in file order, duplicates included,
/// so the caller can report them.
/// One `"key": value` member of a JSON object.
struct _JSONMember {
    var key: String
    var value: _JSONValue
}

enum _JSONValue {
    case object([_JSONMember])
    case array([_JSONValue])
    case string(String)
    /// An integer literal that fits in `Int` (no fraction, no exponent).
    case integer(Int)
    /// Any other number literal.
    case number(Double)
    case bool(Bool)
    case null

    /// Short name of the value's kind, for error messages.
    var kindName: String {
        switch self {
        case .object: return "object"
        case .array: return "array"
        case .string: return "string"
        case .integer, .number: return "number"
        case .bool: return "boolean"
        case .null: return "null"
        }
    }
}

/// Why a JSON text was rejected, with the byte offset inside the text.
struct _JSONParseError: Error {
    var offset: Int
    var message: String
}

/// Parses one JSON value that must fill `bytes` (trailing whitespace allowed).
struct _JSONParser {
    private let bytes: [UInt8]
    private var position = 0
    private let maxDepth = 64

    static func parse(_ bytes: [UInt8]) throws(_JSONParseError) -> _JSONValue {
        var parser = _JSONParser(bytes: bytes)
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.position != bytes.count {
            throw _JSONParseError(offset: parser.position, message: "unexpected trailing characters")
        }
        return value
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func fail(_ message: String) -> _JSONParseError {
        _JSONParseError(offset: position, message: message)
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8) throws(_JSONParseError) {
        guard position < bytes.count, bytes[position] == byte else {
            throw fail("expected '\(Character(Unicode.Scalar(byte)))'")
        }
        position += 1
    }

    private mutating func parseValue(depth: Int) throws(_JSONParseError) -> _JSONValue {
        guard depth < maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
        skipWhitespace()
        guard position < bytes.count else { throw fail("unexpected end of text") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try parseLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("unexpected character")
        }
    }

    private mutating func parseLiteral(_ word: StaticString) throws(_JSONParseError) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - position >= count else { throw fail("unexpected end of text") }
        let matches = word.withUTF8Buffer { w in
            (0..<count).allSatisfy { bytes[position + $0] == w[$0] }
        }
        guard matches else { throw fail("invalid literal") }
        position += count
    }

    private mutating func parseObject(depth: Int) throws(_JSONParseError) -> _JSONValue {
        position += 1  // '{'
        var members: [_JSONMember] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw fail("expected a string key")
            }
            let key = try parseString()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            let value = try parseValue(depth: depth + 1)
            members.append(_JSONMember(key: key, value: value))
            skipWhitespace()
            guard position < bytes.count else { throw fail("unterminated object") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
            throw fail("expected ',' or '}'")
        }
    }

    private mutating func parseArray(depth: Int) throws(_JSONParseError) -> _JSONValue {
        position += 1  // '['
        var elements: [_JSONValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard position < bytes.count else { throw fail("unterminated array") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "]") { position += 1; return .array(elements) }
            throw fail("expected ',' or ']'")
        }
    }

    private mutating func parseHex4() throws(_JSONParseError) -> UInt32 {
        guard bytes.count - position >= 4 else { throw fail("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[position]
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw fail("invalid hex digit in \\u escape")
            }
            value = value * 16 + digit
            position += 1
        }
        return value
    }

    private mutating func parseString() throws(_JSONParseError) -> String {
        position += 1  // opening quote
        var utf8: [UInt8] = []
        while true {
            guard position < bytes.count else { throw fail("unterminated string") }
            let c = bytes[position]
            if c == UInt8(ascii: "\"") { position += 1; break }
            if c < 0x20 { throw fail("control character in string") }
            if c != UInt8(ascii: "\\") { utf8.append(c); position += 1; continue }
            position += 1
            guard position < bytes.count else { throw fail("unterminated escape") }
            let e = bytes[position]
            position += 1
            switch e {
            case UInt8(ascii: "\""): utf8.append(0x22)
            case UInt8(ascii: "\\"): utf8.append(0x5C)
            case UInt8(ascii: "/"): utf8.append(0x2F)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var code = try parseHex4()
                if (0xD800...0xDBFF).contains(code) {
                    // High surrogate: a low surrogate escape must follow.
                    guard bytes.count - position >= 2, bytes[position] == UInt8(ascii: "\\"),
                          bytes[position + 1] == UInt8(ascii: "u") else {
                        throw fail("unpaired surrogate in \\u escape")
                    }
                    position += 2
                    let low = try parseHex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("invalid low surrogate") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(code) {
                    throw fail("unpaired low surrogate in \\u escape")
                }
                guard let scalar = Unicode.Scalar(code) else { throw fail("invalid code point") }
                utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw fail("invalid escape character")
            }
        }
        guard let string = String(validating: utf8, as: UTF8.self) else {
            throw fail("string is not valid UTF-8")
        }
        return string
    }

    private mutating func parseNumber() throws(_JSONParseError) -> _JSONValue {
        let start = position
        var isInteger = true
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        func digits(_ p: inout Int) -> Int {
            let s = p
            while p < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[p]) { p += 1 }
            return p - s
        }
        guard digits(&position) > 0 else { throw fail("invalid number") }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard digits(&position) > 0 else { throw fail("invalid number") }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard digits(&position) > 0 else { throw fail("invalid number") }
        }
        // The literal is ASCII by construction.
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if isInteger, let value = Int(text) { return .integer(value) }
        guard let value = Double(text) else { throw fail("invalid number") }
        return .number(value)
    }
}

/// Writes `string` as a JSON string literal (quotes included) into `out`.
func _appendJSONString(_ string: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    for byte in string.utf8 {
        switch byte {
        case 0x22: out.append(contentsOf: [0x5C, 0x22])
        case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
        case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
        case 0..<0x20:
            let hex = Array("0123456789abcdef".utf8)
            out.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                    hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
        default: out.append(byte)  // UTF-8 passes through unchanged
        }
    }
    out.append(UInt8(ascii: "\""))
}
