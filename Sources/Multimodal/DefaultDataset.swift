import Foundation

/// Synthesising audiovisual datasets with the sensor emulators, in the MNIST-DVS and
/// N-TIDIGITS layouts (`spikefuse synth`, `spikefuse demo`).
public enum DatasetSynthesis {
    /// Where the stimuli come from.
    public struct Sources {
        /// MNIST-style IDX image files and their label files (concatenated in order); nil = procedural handwriting.
        public var images: [(images: URL, labels: URL)]?
        /// A folder of `{digit}_{speaker}_{index}.wav` recordings (e.g. FSDD); nil = formant speech.
        public var audioFolder: URL?
        public init(images: [(images: URL, labels: URL)]? = nil, audioFolder: URL? = nil) {
            self.images = images; self.audioFolder = audioFolder
        }
    }

    /// The label file next to an MNIST image file: `…images-idx3-ubyte…` → `…labels-idx1-ubyte…`.
    public static func labelFile(forImages url: URL) -> URL? {
        let name = url.lastPathComponent
        guard name.contains("images-idx3") else { return nil }
        return url.deletingLastPathComponent()
            .appendingPathComponent(name.replacingOccurrences(of: "images-idx3", with: "labels-idx1"))
    }

    /// Synthesises `pairs` pairs from `seed` and writes them into `folder`
    /// (`grabbed_data{d}/scale4/*.aedat`, `n-tidigits.hdf5`, `manifest.json`).
    /// `progress(done, total)` is called from worker threads.
    public static func write(pairs: Int, seed: UInt64, sources: Sources, corruptFraction: Double,
                             corruptSplits: Set<Split> = [.train, .test],
                             to folder: URL, progress: (@Sendable (Int, Int) -> Void)? = nil) throws {
        var settings = SynthesisSettings()
        settings.corruption.fraction = corruptFraction
        settings.corruption.splits = corruptSplits
        var visual = VisualSource.procedural
        if let files = sources.images {
            var pixels: [UInt8] = [], labels: [UInt8] = []
            var rows = 0, cols = 0, count = 0
            for (imageURL, labelURL) in files {
                let images = try IDX.readImages(imageURL)
                let l = try IDX.readLabels(labelURL)
                guard images.count > 0, images.rows > 0, images.cols > 0 else {
                    throw ConfigurationError.invalid("\(imageURL.path): \(images.count) images of \(images.rows)×\(images.cols) pixels; need at least one image of at least 1×1")
                }
                if let bad = l.firstIndex(where: { $0 > 9 }) {
                    throw ConfigurationError.invalid("\(labelURL.path): label \(l[bad]) at index \(bad) is not a digit 0–9")
                }
                guard l.count == images.count else {
                    throw ConfigurationError.invalid("\(labelURL.path): \(l.count) labels for \(images.count) images in \(imageURL.path)")
                }
                guard count == 0 || (images.rows == rows && images.cols == cols) else {
                    throw ConfigurationError.invalid("\(imageURL.path): \(images.rows)×\(images.cols) images, the others are \(rows)×\(cols)")
                }
                rows = images.rows; cols = images.cols; count += images.count
                pixels += images.pixels; labels += l
            }
            visual = .images(IDXImages(count: count, rows: rows, cols: cols, pixels: pixels), labels: labels)
        }
        var audio = AudioSource.procedural
        if let folder = sources.audioFolder {
            let files = try SpokenDigitFile.list(folder: folder)
            guard !files.isEmpty else {
                throw ConfigurationError.invalid("\(folder.path): no {digit}_{speaker}_{index}.wav recordings")
            }
            audio = .recordings(files)
        }
        let plan = SynthesisPlan(pairCount: pairs, seed: seed, settings: settings, visualSource: visual, audioSource: audio)
        let synthesized = try DatasetSynthesizer(plan: plan).run(progress: progress)
        try DatasetWriter.write(synthesized, plan: plan, to: folder)
    }
}
