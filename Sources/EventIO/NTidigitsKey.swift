import SpikeTensor

/// The name of one N-TIDIGITS sample, `{man|woman}-{speaker}-{a|b}-{digits}`,
/// e.g. `man-im-a-7557` (speaker "im", session "a", the digits 7 5 5 7).
///
/// Digit characters: `z` ("zero"), `o` ("oh"), `1`–`9`. A sample is a *single digit*
/// when the last field has length 1; those are the samples classified by the paper.
public struct NTidigitsKey: Sendable, Hashable, CustomStringConvertible {
    public enum Gender: String, Sendable, Hashable { case man, woman }

    public var gender: Gender
    /// Speaker initials, e.g. "im".
    public var speaker: String
    /// Recording session, "a" or "b".
    public var session: String
    /// The spoken digit characters in order, each one of `z o 1 2 … 9`.
    public var digits: [Character]

    public init(gender: Gender, speaker: String, session: String, digits: [Character]) {
        self.gender = gender; self.speaker = speaker; self.session = session; self.digits = digits
    }

    /// Parses a key; `file` only names the source in the error.
    public init(parsing key: String, file: String = "<key>") throws {
        let fields = key.split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count == 4 else {
            throw DatasetError.malformedKey(file: file, key: key, reason: "has \(fields.count) fields, not 4")
        }
        guard let gender = Gender(rawValue: String(fields[0])) else {
            throw DatasetError.malformedKey(file: file, key: key, reason: "gender '\(fields[0])' is not man or woman")
        }
        guard !fields[1].isEmpty else {
            throw DatasetError.malformedKey(file: file, key: key, reason: "empty speaker")
        }
        guard fields[2] == "a" || fields[2] == "b" else {
            throw DatasetError.malformedKey(file: file, key: key, reason: "session '\(fields[2])' is not a or b")
        }
        guard !fields[3].isEmpty else {
            throw DatasetError.malformedKey(file: file, key: key, reason: "no digits")
        }
        for c in fields[3] where NTidigitsKey.audioClass(of: c) == nil {
            throw DatasetError.malformedKey(file: file, key: key, reason: "unknown digit '\(c)'")
        }
        self.init(gender: gender, speaker: String(fields[1]), session: String(fields[2]),
                  digits: Array(fields[3]))
    }

    public var description: String {
        "\(gender.rawValue)-\(speaker)-\(session)-\(String(digits))"
    }

    /// True when the sample is one spoken digit (the last field has length 1).
    public var isSingleDigit: Bool { digits.count == 1 }

    /// The 11-class audio label of a single-digit sample: `z` → 0, `1`–`9` → 1–9,
    /// `o` → 10; nil for a multi-digit sample.
    public var audioLabel: Int? {
        guard isSingleDigit else { return nil }
        return NTidigitsKey.audioClass(of: digits[0])
    }

    /// The label in the paper's 10-class joint dataset: `z` → 0, `1`–`9` → 1–9;
    /// nil for `o` ("oh", no visual counterpart) and for multi-digit samples.
    public var jointLabel: Int? {
        guard let label = audioLabel, label < 10 else { return nil }
        return label
    }

    /// `z` → 0, `1`…`9` → 1…9, `o` → 10, anything else nil.
    public static func audioClass(of digit: Character) -> Int? {
        switch digit {
        case "z": return 0
        case "o": return 10
        case "1"..."9": return Int(String(digit))
        default: return nil
        }
    }
}
