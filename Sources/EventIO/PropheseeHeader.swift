import Foundation
import SpikeTensor

/// The `% ` header of Prophesee RAW and DAT files.
///
/// Rules (those of OpenEB's header parser, so that the same bytes start the body):
/// - a header line starts with the two bytes `%` and space and ends at the next `\n` (or at
///   the end of the file);
/// - its first word is the key and the other words, joined by one space, the value
///   (`% format EVT3;height=720;width=1280`, `% Width 304`); a later line with the same key wins;
/// - the line `% end` closes the header; without it, the header ends at the first line that
///   does not start with `% `;
/// - the body starts right after the header (after the `\n` of `% end` when present).
public struct PropheseeHeader: Sendable, Equatable {
    /// Header lines without the leading `% ` and the line end, in file order (`end` excluded).
    public var lines: [String]
    /// Key → value, e.g. "format" → "EVT3;height=720;width=1280".
    public var fields: [String: String]
    /// Byte offset of the first byte after the header.
    public var bodyOffset: Int

    /// Parses the header at the start of `bytes`. Never fails: bytes that are not a header
    /// give no lines and body offset 0.
    public init(parsing bytes: [UInt8]) {
        var lines: [String] = []
        var fields: [String: String] = [:]
        var position = 0
        let percent = UInt8(ascii: "%"), space = UInt8(ascii: " "), newline = UInt8(ascii: "\n")
        while position + 1 < bytes.count, bytes[position] == percent, bytes[position + 1] == space {
            let start = position + 2
            let end = bytes[start...].firstIndex(of: newline) ?? bytes.count
            position = min(end + 1, bytes.count)
            let words = String(decoding: bytes[start..<end], as: UTF8.self)
                .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}" })
                .map(String.init)
            guard let key = words.first else { continue }
            if key == "end" { break }
            let value = words.dropFirst().joined(separator: " ")
            lines.append(words.joined(separator: " "))
            fields[key] = value
        }
        self.lines = lines
        self.fields = fields
        self.bodyOffset = position
    }

    /// A positive integer header value (a width or height), or nil when absent; throws
    /// `badHeader` when present but not an integer in 1…`limit`.
    func dimension(_ text: String?, named name: String, limit: Int, source: String) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 1, value <= limit else {
            throw EventIOError.badHeader(file: source,
                detail: "\(name) '\(text)' in the header (bytes 0..<\(bodyOffset)) is not an integer in 1…\(limit)")
        }
        return value
    }
}
