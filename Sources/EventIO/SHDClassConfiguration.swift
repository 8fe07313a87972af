import Foundation

/// Settings of training on SHD with its 20 classes or SSC with its 35 (`SHDClassDataset.load`):
/// audio only, every class kept, the files' own train / test split.
///
/// `folder` holds `shd_train.h5` and `shd_test.h5` (SHD) or `ssc_train.h5` and `ssc_test.h5`
/// (SSC); `ssc_valid.h5`, when present, is not used. `classes` is the class count the files
/// gave when the run was set up (the count of `extra/keys`); loading checks that they still do.
///
/// Framing is the joint dataset's SHD framing (`CochleaFraming`): T = 64 equal bins from each
/// sample's first to last spike (`binning = .divideRecording`:
/// one bin is 1/T of the sample's span), binary values, audio `[T, 700]`.
///
/// Codable (a run's `config.json`); keys missing from a JSON object take the defaults below.
public struct SHDClassConfiguration: Codable, Sendable, Hashable {
    public enum Corpus: String, Codable, Sendable, Hashable {
        /// Spiking Heidelberg Digits: 20 classes (digits 0–9 in English, then in German).
        case shd
        /// Spiking Speech Commands: 35 classes (words).
        case ssc
        public var name: String { rawValue.uppercased() }
    }

    /// Folder holding the corpus' `*_train.h5` and `*_test.h5`.
    public var folder: String
    public var corpus: Corpus
    /// Classes of the files: 20 for SHD, 35 for SSC.
    public var classes: Int
    /// Timesteps T.
    public var timesteps: Int = 64
    public var value: JointDatasetConfiguration.Value = .binary
    public var binning: JointDatasetConfiguration.Binning = .divideRecording
    /// Folder for the frame cache; nil keeps the frames in memory only.
    public var cacheDirectory: String?
    /// Skip unreadable samples with a warning, or stop.
    public var badFiles: BadFilePolicy = .skip
    /// Print framing progress to stderr.
    public var showProgress: Bool = true

    public init(folder: String, corpus: Corpus, classes: Int) {
        self.folder = folder; self.corpus = corpus; self.classes = classes
    }

    /// The corpus at `path`: a folder holding the SHD or the SSC files, or the path of one of
    /// them (its sibling is found beside it). Opens both files to learn the class count.
    /// Errors name the path and what is missing.
    public init(path: String) throws {
        let url = URL(fileURLWithPath: path)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw DatasetError.badConfiguration("\(path): no such folder or file (expected shd_train.h5 + shd_test.h5 or ssc_train.h5 + ssc_test.h5)")
        }
        let folder: URL, corpus: Corpus
        if isFolder.boolValue {
            folder = url
            let found = [Corpus.shd, .ssc].filter { c in
                ["train", "test"].contains { FileManager.default.fileExists(atPath: url.appendingPathComponent("\(c.rawValue)_\($0).h5").path) }
            }
            guard let first = found.first else {
                throw DatasetError.badConfiguration("\(path): holds neither shd_train.h5 / shd_test.h5 nor ssc_train.h5 / ssc_test.h5")
            }
            guard found.count == 1 else {
                throw DatasetError.badConfiguration("\(path): holds both SHD and SSC files; give one file's path, e.g. \(url.appendingPathComponent("ssc_train.h5").path)")
            }
            corpus = first
        } else {
            let name = url.lastPathComponent
            guard url.pathExtension == "h5", let c = [Corpus.shd, .ssc].first(where: { name.hasPrefix("\($0.rawValue)_") }) else {
                throw DatasetError.badConfiguration("\(path): not an SHD or SSC file (shd_*.h5, ssc_*.h5) nor a folder holding them")
            }
            folder = url.deletingLastPathComponent(); corpus = c
        }
        self.init(folder: folder.path, corpus: corpus, classes: 0)
        let (train, test) = try openFiles()
        guard train.classes == test.classes else {
            throw DatasetError.badConfiguration("\(test.url.path): \(test.classes) classes, \(train.url.path) \(train.classes)")
        }
        classes = train.classes
    }

    /// `{folder}/{corpus}_{split}.h5`.
    public func file(_ split: Split) -> URL {
        URL(fileURLWithPath: folder).appendingPathComponent("\(corpus.rawValue)_\(split.rawValue).h5")
    }

    /// Both files, opened; an error names a missing one.
    func openFiles() throws -> (train: SHDFile, test: SHDFile) {
        func open(_ split: Split) throws -> SHDFile {
            let url = file(split)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw DatasetError.badConfiguration("\(url.path): missing; \(corpus.name) training needs \(corpus.rawValue)_train.h5 and \(corpus.rawValue)_test.h5 in \(folder)")
            }
            return try SHDFile.open(url)
        }
        return (try open(.train), try open(.test))
    }

    /// `[T, 700]`.
    public var audioShape: [Int] { [timesteps, SHDFile.channelCount] }
    public var framing: CochleaFraming {
        CochleaFraming(timesteps: timesteps, binning: binning.timeBinning, value: value.frameValue)
    }

    /// Throws `DatasetError.badConfiguration` for settings out of range.
    public func validate() throws {
        guard (1...100_000).contains(timesteps) else { throw DatasetError.badConfiguration("timesteps \(timesteps) out of 1…100000") }
        if case .fixedDuration(let d) = binning, d < 1 {
            throw DatasetError.badConfiguration("fixedDuration \(d) µs must be ≥ 1")
        }
    }

    /// The settings that change frames, as a stable string (part of the cache key, with the
    /// source file and the class count, so SHD-20 frames never mix with the joint set's).
    var settingsKey: String {
        "\(corpus.rawValue) classes v1 classes=\(classes) T=\(timesteps) value=\(value.rawValue) binning=\(binning)"
    }

    // MARK: Codable with defaults for missing keys

    private enum CodingKeys: String, CodingKey {
        case folder, corpus, classes, timesteps, value, binning, cacheDirectory, badFiles, showProgress
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(folder: try c.decode(String.self, forKey: .folder), corpus: try c.decode(Corpus.self, forKey: .corpus),
                  classes: try c.decode(Int.self, forKey: .classes))
        timesteps = try c.decodeIfPresent(Int.self, forKey: .timesteps) ?? timesteps
        value = try c.decodeIfPresent(JointDatasetConfiguration.Value.self, forKey: .value) ?? value
        binning = try c.decodeIfPresent(JointDatasetConfiguration.Binning.self, forKey: .binning) ?? binning
        cacheDirectory = try c.decodeIfPresent(String.self, forKey: .cacheDirectory)
        badFiles = try c.decodeIfPresent(BadFilePolicy.self, forKey: .badFiles) ?? badFiles
        showProgress = try c.decodeIfPresent(Bool.self, forKey: .showProgress) ?? showProgress
    }
}
