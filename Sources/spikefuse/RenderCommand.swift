import EventIO
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
      FILE.hdf5     cochlea raster of sample --key (train or test): time (ms) × channel 0–63
      --window-ms   only the first MS milliseconds of the recording
    """

    static func run(_ arguments: [String]) throws {
        var path: String?, out: String?, key: String?
        var slices = 1, scale = 4
        var crop: Int?, windowMs: Int?
        var i = 0
        func value() throws -> String {
            guard i + 1 < arguments.count else { throw UsageError("\(arguments[i]) needs a value\n" + help) }
            i += 1
            return arguments[i]
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--help", "-h": print(help); return
            case "--out": out = try value()
            case "--key": key = try value()
            case "--slices":
                guard let n = Int(try value()), (1...32).contains(n) else { throw UsageError("--slices needs 1…32") }
                slices = n
            case "--crop":
                guard let n = Int(try value()), (1...1024).contains(n) else { throw UsageError("--crop needs 1…1024") }
                crop = n
            case "--window-ms":
                guard let n = Int(try value()), n >= 1 else { throw UsageError("--window-ms needs a positive integer") }
                windowMs = n
            case "--scale":
                guard let n = Int(try value()), (1...16).contains(n) else { throw UsageError("--scale needs 1…16") }
                scale = n
            case let a where a.hasPrefix("-"): throw UsageError("unknown option \(a)\n" + help)
            case let a:
                guard path == nil else { throw UsageError("one FILE only\n" + help) }
                path = a
            }
            i += 1
        }
        guard let path, let out else { throw UsageError(help) }
        let input = URL(fileURLWithPath: path), output = URL(fileURLWithPath: out)
        let svg = output.pathExtension.lowercased() == "svg"
        guard svg || output.pathExtension.lowercased() == "png" else { throw UsageError("--out must end in .png or .svg") }

        if ["hdf5", "h5"].contains(input.pathExtension.lowercased()) {
            let file = try NTidigitsFile.open(input)
            guard let key else {
                throw UsageError("an HDF5 file needs --key, e.g. --key \(file.keys(.train).first ?? "man-im-a-7")")
            }
            let split: Split = file.keys(.train).contains(key) ? .train : .test
            var events = try file.events(key: key, split: split)
            if let windowMs, let t0 = events.t.first {
                events = TimeWindow(startMicroseconds: t0, endMicroseconds: t0 + Int64(windowMs) * 1000)(events)
            }
            if svg {
                try write(EventRenderer.cochleaSVG(events, title: key), to: output)
            } else {
                let c = EventRenderer.cochlea(events)
                try PNG.write(rgb: c.rgb, width: c.width, height: c.height, to: output)
            }
        } else {
            var events = try AEDAT.read(input)
            if let windowMs, let t0 = events.t.first {
                events = TimeWindow(startMicroseconds: t0, endMicroseconds: t0 + Int64(windowMs) * 1000)(events)
            }
            if let crop { events = CentroidCrop(width: crop, height: crop)(events) }
            if svg {
                try write(EventRenderer.dvsSVG(events, pixelScale: scale), to: output)
            } else {
                let c = EventRenderer.dvs(events, slices: slices, pixelScale: scale)
                try PNG.write(rgb: c.rgb, width: c.width, height: c.height, to: output)
            }
        }
        print("wrote \(output.path)")
    }

    static func write(_ text: String, to url: URL) throws {
        do { try Data(text.utf8).write(to: url, options: .atomic) } catch {
            throw UsageError("\(url.path): cannot write: \(error.localizedDescription)")
        }
    }
}
