// spikefuse — the command-line tool. Each subcommand lives in a file of its own
// (`<Name>Command.swift`) and registers itself in `commands` below.
@preconcurrency import Glibc
import Foundation
import Multimodal

/// A subcommand: its one-line summary and the function that runs it on its arguments.
struct Command: Sendable {
    let summary: String
    let run: @Sendable ([String]) throws -> Void
}

/// Registered subcommands, one line each.
enum Commands {
    static let all: [(name: String, command: Command)] = [
        ("demo", Command(summary: "the whole system on the embedded default data (make demo)", run: DemoCommand.run)),
        ("train", Command(summary: "train a network (multimodal, ablation or unimodal)", run: TrainCommand.run)),
        ("evaluate", Command(summary: "test accuracy per head, confusion, attention weights", run: EvaluateCommand.run)),
        ("report", ReportCommand.command),
        ("experiment", Command(summary: "the paper's protocol: all modes × repeats, Table 1 and Fig. 3", run: ExperimentCommand.run)),
        ("grad", Command(summary: "losses and gradients of one batch, for cross-framework checks", run: GradCommand.run)),
        ("synth", Command(summary: "make a DVS + cochlea dataset with the sensor emulators", run: SynthCommand.run)),
        ("export", Command(summary: "a trained network as a NIR graph (Lava, snnTorch, Norse, …)", run: ExportCommand.run)),
        ("import", Command(summary: "a NIR graph as SpikeFuse weights, for evaluate and streaming", run: ImportCommand.run)),
        ("describe", DescribeCommand.command),
        ("simulate", SimulateCommand.command),
        ("inspect", InspectCommand.command),
        ("render", RenderCommand.command),
        ("convert", ConvertCommand.command),
        ("stream", StreamCommand.command),
    ]
}

func printUsage() {
    print("usage: spikefuse <command> [options]\n\ncommands:")
    for (name, c) in Commands.all { print("  " + name.padding(toLength: 12, withPad: " ", startingAt: 0) + c.summary) }
    print("\n`spikefuse <command> --help` describes a command's options.")
}

setvbuf(stdout, nil, _IOLBF, 0)   // line-buffered, so progress reaches logs promptly
AllocatorTuning.apply()           // once, at start-up: keep large activation buffers in the heap
let arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first, name != "--help", name != "-h" else {
    printUsage()
    exit(arguments.isEmpty ? 2 : 0)
}
guard let command = Commands.all.first(where: { $0.name == name })?.command else {
    FileHandle.standardError.write("spikefuse: unknown command '\(name)'\n".data(using: .utf8)!)
    printUsage()
    exit(2)
}
Cluster.start()                   // joins the MPI job when mpirun started this process
do {
    try command.run(Array(arguments.dropFirst()))
} catch let error as UsageError {
    Cluster.fail("spikefuse \(name): \(error)", code: 2)
} catch {
    Cluster.fail("spikefuse \(name): \(error)", code: 1)
}
Cluster.finish()
