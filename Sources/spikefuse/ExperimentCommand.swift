import Foundation
import Multimodal

enum ExperimentCommand {
    static let help = """
    usage: spikefuse experiment --out DIR [--repeats 5] [--modes m1,m2,…] [--first-seed 1] [data] [options]

    The paper's protocol: every mode trained REPEATS times with seeds first-seed, first-seed+1, …;
    writes DIR/table1.md and table1.csv (mean, std, best test accuracy per mode) and
    DIR/fig3.csv and fig3.svg (test accuracy per epoch, mean and min–max over seeds).
    Each run lives in DIR/<mode>/seed-<s>/ and is resumed if interrupted.

    """ + RunOptions.help

    static func run(_ args: [String]) throws {
        var a = Arguments(args)
        if a.wantsHelp { print(help); return }
        guard let out = try a.string("out") else { throw UsageError("experiment needs --out DIR") }
        var config = ExperimentConfiguration()
        if let r = try a.int("repeats") {
            guard r >= 1 else { throw UsageError("--repeats must be at least 1") }
            config.repeats = r
        }
        if let s = try a.uint64("first-seed") { config.firstSeed = s }
        if let m = try a.string("modes") {
            config.modes = try m.split(separator: ",").map { try TrainingMode(parsing: String($0)) }
        }
        let options = try RunOptions.parse(&a)
        try a.finish()
        config.model = options.model
        config.training = options.training
        let (trainSet, testSet) = try options.source.datasets()
        let dir = URL(fileURLWithPath: out)
        let runs = try Experiment.run(config, trainSet: trainSet, testSet: testSet, out: dir,
                                      dataDescription: ["source": options.source.jsonString()]) { print($0) }
        print("\n" + (try String(contentsOf: dir.appendingPathComponent("table1.md"), encoding: .utf8)))
        print("\(runs.count) runs; reports in \(dir.path) (table1.md, table1.csv, fig3.csv, fig3.svg)")
    }
}
