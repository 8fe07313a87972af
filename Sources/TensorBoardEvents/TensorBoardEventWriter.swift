import Foundation

/// An event file open for appending: each `append` adds framed events (`TFRecord.frame`)
/// at the end of the file with one `write`, so TensorBoard, which reads a growing file
/// record by record, sees each batch of events as soon as it is written.
public final class TensorBoardEventWriter {
    public let url: URL
    private let handle: FileHandle

    /// Opens an existing file `url` for appending.
    public init(appendingTo url: URL) throws {
        self.url = url
        do {
            handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
        } catch {
            throw TFRecordError(source: url.path, offset: 0, reason: "cannot open the event file for appending: \(error.localizedDescription)")
        }
    }

    deinit { try? handle.close() }

    public func append(_ events: [TensorBoardEvent]) throws {
        guard !events.isEmpty else { return }
        let bytes = events.flatMap { TFRecord.frame($0.encoded()) }
        do { try handle.write(contentsOf: Data(bytes)) } catch {
            throw TFRecordError(source: url.path, offset: 0, reason: "cannot append \(events.count) events: \(error.localizedDescription)")
        }
    }
}
