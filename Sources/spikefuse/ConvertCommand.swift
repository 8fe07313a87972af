import EventIO
import Foundation

/// `spikefuse convert IN OUT.csv`: every event of a DVS event file as CSV `t,x,y,p`.
enum ConvertCommand {
    static let command = Command(summary: "an event file (AEDAT, N-MNIST, Prophesee RAW/DAT) as CSV t,x,y,p",
                                 run: run)

    static let help = """
    usage: spikefuse convert IN OUT.csv
      IN        an event file of any format SpikeFuse reads, found by content, else extension:
                \(EventFileFormat.all.map { "\($0.name) (" + $0.extensions.map { "." + $0 }.joined(separator: ", ") + ")" }.joined(separator: ", "))
      OUT.csv   header `t,x,y,p`, then one event per line in file order: t the file's own time in
                µs (not rebased), x from the left, y from the top (as the format's reference reader
                gives them), p 1 = ON, 0 = OFF. Written atomically.
    """

    static func run(_ arguments: [String]) throws {
        var a = Arguments(arguments)
        if a.wantsHelp { print(help); return }
        try a.finish()
        guard a.positional.count == 2 else { throw UsageError("convert needs IN and OUT.csv (see --help)") }
        let input = URL(fileURLWithPath: a.positional[0]), output = URL(fileURLWithPath: a.positional[1])
        guard FileManager.default.fileExists(atPath: input.path) else { throw UsageError("\(input.path): no such file") }
        let file = try EventFileFormat.read(input)
        try EventCSV.write(file.events, to: output)
        print("wrote \(file.events.count) events (\(file.format), sensor \(file.events.sensor)) to \(output.path)")
    }
}
