import Multimodal
import Foundation

/// `spikefuse render FILE --out PICTURE.png|.svg [--slices N] [--key KEY] [--scale PX]`:
/// the paper's Fig. 2 pictures of DVS and cochlea events.
enum RenderCommand {
    static let command = Command(summary: "draw events as a picture (PNG or SVG), like the paper's Fig. 2",
                                 run: run)

    static let help = """
    usage: spikefuse render FILE --out PICTURE.png|.svg [--slices N] [--key KEY] [--scale PX]
                            [--crop SIDE] [--window-ms MS]
      FILE.aedat    DVS events accumulated per pixel: ON yellow, OFF blue; --slices N draws N
                    equal time slices side by side; --scale PX pixels per sensor pixel (default 4);
                    --crop SIDE a SIDE×SIDE box around the event centroid (the digit moves, so
                    short slices, e.g. --window-ms 560 --slices 4, show its shape best)
                    (.aedat: AEDAT 2.0, AEDAT 3.1 and CIFAR10-DVS recordings; .aedat4: AEDAT 4.0;
                    any sensor size)
      FILE.bin      an N-MNIST recording, drawn as FILE.aedat (34×34 sensor); in Caltech101/{class}/
                    an N-Caltech101 recording (240×180)
      FILE.raw/.dat a Prophesee EVT 2.0/2.1/3.0 RAW or DAT recording (any format `convert --help` lists)
      FILE.hdf5     cochlea raster of sample --key (train or test): time (ms) × channel 0–63
      FILE.h5       an SHD or SSC file: raster of sample number --key N, time (ms) × channel 0–699
      --window-ms   only the first MS milliseconds of the recording
    """

    static func run(_ arguments: [String]) throws {
        var a = Arguments(arguments)
        if a.wantsHelp { print(help); return }
        let out = try a.string("out"), key = try a.string("key")
        let slices = try a.int("slices") ?? 1, scale = try a.int("scale") ?? 4
        let crop = try a.int("crop"), windowMs = try a.int("window-ms")
        try a.finish()
        guard (1...32).contains(slices) else { throw UsageError("--slices needs 1…32") }
        guard (1...16).contains(scale) else { throw UsageError("--scale needs 1…16") }
        if let crop, !(1...1024).contains(crop) { throw UsageError("--crop needs 1…1024") }
        if let windowMs, windowMs < 1 { throw UsageError("--window-ms needs a positive integer") }
        guard a.positional.count == 1, let path = a.positional.first else {
            throw UsageError("render needs one FILE (see --help)")
        }
        guard let out else { throw UsageError("render needs --out PICTURE.png|.svg") }
        let input = URL(fileURLWithPath: path), output = URL(fileURLWithPath: out)
        let svg = output.pathExtension.lowercased() == "svg"
        guard svg || output.pathExtension.lowercased() == "png" else { throw UsageError("--out must end in .png or .svg") }

        if ["hdf5", "h5"].contains(input.pathExtension.lowercased()) {
            try renderCochlea(input, key: key, windowMs: windowMs, to: output)
        } else {
            try renderDVS(input, slices: slices, scale: scale, crop: crop, windowMs: windowMs, to: output)
        }
        print("wrote \(output.path)")
    }

    /// One cochlea sample of an N-TIDIGITS file as a channel-over-time raster (PNG or SVG by extension).
    static func renderCochlea(_ input: URL, key: String?, windowMs: Int? = nil, to output: URL) throws {
        var events: CochleaEvents
        switch try CochleaHDF5File.open(input) {
        case .shd(let shd):
            guard let key, let index = Int(key), index >= 0, index < shd.count else {
                throw UsageError("an SHD file needs --key N, a sample number 0…\(shd.count - 1)")
            }
            events = try shd.events(index)
        case .ntidigits(let file):
            guard let key else {
                throw UsageError("an HDF5 file needs --key, e.g. --key \(file.keys(.train).first ?? "man-im-a-7")")
            }
            let split: Split = file.keys(.train).contains(key) ? .train : .test
            events = try file.events(key: key, split: split)
        }
        let key = key ?? ""
        if let windowMs, let t0 = events.t.first {
            events = TimeWindow(startMicroseconds: t0, endMicroseconds: t0 + Int64(windowMs) * 1000)(events)
        }
        if output.pathExtension.lowercased() == "svg" {
            try write(EventRenderer.cochleaSVG(events, title: key), to: output)
        } else {
            let c = EventRenderer.cochlea(events)
            try PNG.write(rgb: c.rgb, width: c.width, height: c.height, to: output)
        }
    }

    /// A DVS recording as accumulated ON/OFF events, optionally in time slices and cropped
    /// around the event centroid (PNG or SVG by extension).
    static func renderDVS(_ input: URL, slices: Int, scale: Int, crop: Int?, windowMs: Int?, to output: URL) throws {
        var events = try EventFileFormat.read(input).events   // any format of the registry
        guard events.sensor.width * events.sensor.height * slices <= 1 << 26 else {
            throw UsageError("a \(events.sensor) sensor in \(slices) slices is too large to draw; use fewer --slices or --crop SIDE")
        }
        if let windowMs, let t0 = events.t.first {
            events = TimeWindow(startMicroseconds: t0, endMicroseconds: t0 + Int64(windowMs) * 1000)(events)
        }
        if let crop { events = CentroidCrop(width: crop, height: crop)(events) }
        if output.pathExtension.lowercased() == "svg" {
            try write(EventRenderer.dvsSVG(events, pixelScale: scale), to: output)
        } else {
            let c = EventRenderer.dvs(events, slices: slices, pixelScale: scale)
            try PNG.write(rgb: c.rgb, width: c.width, height: c.height, to: output)
        }
    }

    static func write(_ text: String, to url: URL) throws {
        do { try AtomicFile.write(Array(text.utf8), to: url) } catch {
            throw UsageError(error.description)
        }
    }
}
