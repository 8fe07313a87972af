// spikefuse — the command-line tool. Each subcommand lives in a file of its own
// (`<Name>Command.swift`) and registers itself in `commands` below.
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
        ("inspect", InspectCommand.command),
        ("render", RenderCommand.command),
    ]
}

func printUsage() {
    print("usage: spikefuse <command> [options]\n\ncommands:")
    for (name, c) in Commands.all { print("  " + name.padding(toLength: 12, withPad: " ", startingAt: 0) + c.summary) }
    print("\n`spikefuse <command> --help` describes a command's options.")
}

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
do {
    try command.run(Array(arguments.dropFirst()))
} catch {
    FileHandle.standardError.write("spikefuse \(name): \(error)\n".data(using: .utf8)!)
    exit(1)
}
