import Foundation
import SpikeTensor

/// A DVS event file as read through the format registry.
public struct EventFile: Sendable {
    /// The format as the reader names it for this file, e.g. "Prophesee EVT 3.0 RAW".
    public var format: String
    /// The events: t in µs as recorded, x from the left, y from the top, polarity 1 = ON.
    public var events: DVSEvents
    /// The class the file's name or folder gives (MNIST-DVS digit, N-MNIST folder), if any.
    public var label: String?
    /// The file's streams, for formats that hold several (AEDAT 4.0); nil for the others.
    public var streams: [EventFileStream]?

    public init(format: String, events: DVSEvents, label: String? = nil, streams: [EventFileStream]? = nil) {
        self.format = format; self.events = events; self.label = label; self.streams = streams
    }
}

/// One stream of a multi-stream file (AEDAT 4.0: events, frames, IMU, triggers …).
public struct EventFileStream: Codable, Sendable, Equatable {
    public var id: Int
    /// The stream's type identifier: EVTS (events), FRME (frames), IMUS (IMU), TRIG (triggers) …
    public var type: String
    /// Packets of the stream in the file.
    public var packets: Int
    /// Whether its events were read (the event stream), or its packets skipped.
    public var read: Bool

    public init(id: Int, type: String, packets: Int, read: Bool) {
        self.id = id; self.type = type; self.packets = packets; self.read = read
    }
}

/// The registry of DVS event-file formats: one entry per format, used by `spikefuse convert`,
/// `inspect` and `render` (and anything else that takes "an event file").
///
/// A file's format is found by content first: the first entry whose `recognises` accepts the
/// file's first `headLength` bytes wins (entries are tried in `all` order). When none does,
/// the first entry listing the file's extension is used, so formats without a magic number
/// (N-MNIST `.bin`) still read and a damaged file gets its format's own error message.
///
/// To add a format, declare it and list it in `all`:
///
/// ```swift
/// public static let evk = EventFileFormat(name: "My camera", extensions: ["evk"],
///     recognises: { $0.starts(with: Array("EVK1".utf8)) },
///     read: { url in EventFile(format: "My camera", events: try MyCamera.read(url)) })
/// public static let all: [EventFileFormat] = [aedat, propheseeRAW, propheseeDAT, nmnist, evk]
/// ```
///
/// Put it before any entry it must win against (a magic check beats an extension), and give
/// `read` the reader's defaults (the events exactly as the format's reference reader gives
/// them). Nothing else needs to change: convert, inspect and render pick it up.
public struct EventFileFormat: Sendable {
    /// The format's name, e.g. "AEDAT 2.0".
    public let name: String
    /// File extensions, lower case, without the dot.
    public let extensions: [String]
    /// Whether the file's first bytes are this format's; nil when it has no magic number.
    public let recognises: (@Sendable ([UInt8]) -> Bool)?
    /// Reads the whole file.
    public let read: @Sendable (URL) throws -> EventFile

    public init(name: String, extensions: [String], recognises: (@Sendable ([UInt8]) -> Bool)?,
                read: @escaping @Sendable (URL) throws -> EventFile) {
        self.name = name; self.extensions = extensions; self.recognises = recognises; self.read = read
    }

    /// How many leading bytes `recognises` sees.
    public static let headLength = 65_536

    /// AEDAT of every version read (`AEDATFlavour`): 2.0 (jAER, MNIST-DVS; label from an
    /// MNIST-DVS file name), 3.1 (DVS128 Gesture, DAVIS), CIFAR10-DVS's 2.0 (label from its
    /// class folder or name) and 4.0 (DV); another AEDAT version is an error naming it.
    public static let aedat = EventFileFormat(name: "AEDAT 2.0, 3.1, 4.0, CIFAR10-DVS", extensions: ["aedat", "aedat4"],
                    recognises: { $0.starts(with: Array("#!AER-DAT".utf8)) },
                    read: { url in
                        if try _FileBytes.readHead(url, count: 12) == Array(AEDAT4.versionLine.utf8) {
                            let r = try AEDAT4.readRecording(url)
                            let streams = r.streams.keys.sorted().map {
                                EventFileStream(id: $0, type: r.streams[$0]!, packets: r.packetsPerStream[$0] ?? 0,
                                                read: $0 == r.eventStreamID)
                            }
                            return EventFile(format: AEDATFlavour.aedat4.rawValue, events: r.events, streams: streams)
                        }
                        let (events, flavour) = try AEDATFlavour.read(url)
                        var label: String?
                        switch flavour {
                        case .aedat2: label = MNISTDVSFileName(parsing: url.lastPathComponent).map { "\($0.digit)" }
                        case .cifar10DVS: label = CIFAR10DVS.label(of: url)
                        case .aedat31, .aedat4: label = nil
                        }
                        return EventFile(format: flavour.rawValue, events: events, label: label)
                    })

    /// Prophesee RAW, EVT 2.0 / 2.1 / 3.0: a `% ` header naming the encoding.
    public static let propheseeRAW = EventFileFormat(name: "Prophesee RAW (EVT 2.0, 2.1, 3.0)", extensions: ["raw"],
                    recognises: { head in
                        let header = PropheseeHeader(parsing: head)
                        return header.fields["format"] != nil || header.fields["evt"] != nil
                    },
                    read: { url in
                        let r = try PropheseeRAW.readRecording(url)
                        return EventFile(format: "Prophesee \(r.encoding.rawValue) RAW" + (r.legacyEndianness ? " (legacy endianness)" : ""),
                                         events: r.events)
                    })

    /// Prophesee DAT (CD events): a `% ` header, then event type 0 or 12 and size 8.
    public static let propheseeDAT = EventFileFormat(name: "Prophesee DAT", extensions: ["dat"],
                    recognises: { head in
                        let header = PropheseeHeader(parsing: head)
                        return !header.lines.isEmpty && header.fields["format"] == nil && header.fields["evt"] == nil
                            && header.bodyOffset + 2 <= head.count && [0, 12].contains(head[header.bodyOffset])
                            && head[header.bodyOffset + 1] == 8
                    },
                    read: { url in EventFile(format: "Prophesee DAT (CD events)", events: try PropheseeDAT.read(url)) })

    /// N-MNIST `.bin` (no magic number: by extension), or N-Caltech101 (the same encoding, up to
    /// 240×180) when the file sits in `Caltech101/{class}/` (`NCaltech101Layout.holds`).
    public static let nmnist = EventFileFormat(name: "N-MNIST, N-Caltech101", extensions: ["bin"], recognises: nil,
                    read: { url in
                        let folder = url.deletingLastPathComponent().lastPathComponent
                        if NCaltech101Layout.holds(url) {
                            return EventFile(format: "N-Caltech101 (ATIS, 5-byte events)", events: try NCaltech101.read(url),
                                             label: folder)
                        }
                        return EventFile(format: "N-MNIST (ATIS, 5-byte events)", events: try NMNIST.read(url),
                                         label: folder.count == 1 && folder.allSatisfy(\.isNumber) ? folder : nil)
                    })

    /// Every format SpikeFuse reads, in the order they are tried. Add new formats here.
    public static let all: [EventFileFormat] = [aedat, propheseeRAW, propheseeDAT, nmnist]

    /// The format of the file at `url`: by content, else by extension; throws
    /// `unreadable` when the file cannot be opened and `unsupportedEncoding` when no format fits.
    public static func detect(_ url: URL) throws -> EventFileFormat {
        let head = try _FileBytes.readHead(url, count: headLength)
        if let format = all.first(where: { $0.recognises?(head) == true }) { return format }
        let ext = url.pathExtension.lowercased()
        if let format = all.first(where: { $0.extensions.contains(ext) }) { return format }
        throw EventIOError.unsupportedEncoding(file: url.path,
            detail: "not a DVS event file SpikeFuse reads (by content or extension); known: "
                + all.map { "\($0.name) (" + $0.extensions.map { "." + $0 }.joined(separator: ", ") + ")" }.joined(separator: "; "))
    }

    /// Reads the event file at `url` in its detected format.
    public static func read(_ url: URL) throws -> EventFile {
        try detect(url).read(url)
    }
}
