import Foundation

/// A bad command line: one clear line, exit status 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// `--name value`, `--flag` and positional arguments, consumed by name; `finish()` rejects
/// anything left over so that a mistyped option is an error, not silently ignored.
struct Arguments {
    private var remaining: [String]
    private(set) var positional: [String] = []

    init(_ arguments: [String]) {
        var rest: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a.hasPrefix("--"), let eq = a.firstIndex(of: "=") {   // --name=value
                rest.append(String(a[..<eq])); rest.append(String(a[a.index(after: eq)...]))
            } else {
                rest.append(a)
            }
            i += 1
        }
        remaining = rest
    }

    var wantsHelp: Bool { remaining.contains("--help") || remaining.contains("-h") }

    mutating func flag(_ name: String) -> Bool {
        guard let i = remaining.firstIndex(of: "--" + name) else { return false }
        remaining.remove(at: i)
        return true
    }

    mutating func string(_ name: String) throws -> String? {
        guard let i = remaining.firstIndex(of: "--" + name) else { return nil }
        guard i + 1 < remaining.count, !remaining[i + 1].hasPrefix("--") else {
            throw UsageError("--\(name) needs a value")
        }
        let v = remaining[i + 1]
        remaining.removeSubrange(i...(i + 1))
        return v
    }

    mutating func int(_ name: String) throws -> Int? {
        guard let s = try string(name) else { return nil }
        guard let v = Int(s) else { throw UsageError("--\(name) must be an integer, got '\(s)'") }
        return v
    }

    mutating func uint64(_ name: String) throws -> UInt64? {
        guard let s = try string(name) else { return nil }
        guard let v = UInt64(s) else { throw UsageError("--\(name) must be a non-negative integer, got '\(s)'") }
        return v
    }

    mutating func double(_ name: String) throws -> Double? {
        guard let s = try string(name) else { return nil }
        guard let v = Double(s), v.isFinite else { throw UsageError("--\(name) must be a number, got '\(s)'") }
        return v
    }

    mutating func intList(_ name: String) throws -> [Int]? {
        guard let s = try string(name) else { return nil }
        let parts = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else {
            throw UsageError("--\(name) must be comma-separated integers, got '\(s)'")
        }
        return parts.map { $0! }
    }

    /// Takes the positional arguments and fails on any unknown option.
    mutating func finish() throws {
        if let unknown = remaining.first(where: { $0.hasPrefix("-") }) {
            throw UsageError("unknown option '\(unknown)' (see --help)")
        }
        positional = remaining
        remaining = []
    }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// A status line on standard error that rewrites itself on a terminal and prints at most
/// every `interval` seconds otherwise (so logs stay short).
final class StatusLine: @unchecked Sendable {   // used from one thread at a time
    private let tty = isatty(2) != 0
    private var last = Date.distantPast
    private let interval: TimeInterval
    init(interval: TimeInterval = 0.5) { self.interval = tty ? interval : 15 }

    func update(_ text: String, force: Bool = false) {
        let now = Date()
        guard force || now.timeIntervalSince(last) >= interval else { return }
        last = now
        FileHandle.standardError.write(Data((tty ? "\r\u{1B}[K" + text : text + "\n").utf8))
    }

    func finish() { if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } }
}
