// spikefuse-bench — training and inference throughput and peak memory of the SpikeFuse
// engine on the paper's visual and auditory networks (T = 64, random binary inputs at 5 %
// firing). Each configuration runs in its own child process so that its peak RSS
// (getrusage ru_maxrss) is its own. Commands: `usage` below (`spikefuse-bench --help`).
// bench/run.sh runs the side-by-side comparison with the PyTorch peer (bench/peer_bench.py).
import SpikeTensor
import Foundation
import SpikeNN
import Multimodal
#if canImport(Glibc)
import Glibc
#endif

struct BenchResult: Codable {
    var model: String
    var task: String
    var batch: Int
    var samples_per_second: Double
    var peak_rss_mb: Double
    var implementation = "spikefuse"
    var iterations: Int
    var threads: String
    /// Samples per second of this process's CPU time (user + system, all threads) during the
    /// measurement: what one fully available core would give; less sensitive to other load.
    var samples_per_cpu_second: Double
    /// 1-minute load average when the configuration finished (the machine is shared).
    var load_average: Double
}

func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func loadAverage() -> Double {
    var loads = [Double](repeating: 0, count: 3)
    return getloadavg(&loads, 3) > 0 ? loads[0] : -1
}

AllocatorTuning.apply()   // as the spikefuse tool does at start-up
let timeSteps = 64

func peakRSSMegabytes() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024   // Linux reports KiB
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

/// Runs one configuration: one warm-up iteration, then iterations until `budget` seconds pass
/// (at least 2).
/// `model`: "visual", "auditory", or a neuron variant "auditory+<model>" (`NeuronBench`).
func runSingle(model: String, task: String, batch: Int, budget: Double) -> BenchResult {
    let (net, sampleShape) = BenchModel(rawValue: model).map { ($0.makeNetwork(seed: 1), $0.sampleShape) }
        ?? (NeuronBench.network(model, seed: 1)!, BenchModel.auditory.sampleShape)
    net.needsInputGradient = false
    var rng = SeededGenerator(seed: 2)
    let shape = [timeSteps, batch] + sampleShape
    let x = Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.nextDouble() < 0.05 ? 1 : 0 })
    let labels = (0..<batch).map { _ in rng.nextInt(below: 10) }
    let adam = Adam(parameters: net.parameters)
    func iteration() {
        if task == "train" {
            let spikes = net.forward(x)
            let (_, gradient) = SpikeRateLoss.mseLoss(spikes: spikes, labels: labels)
            _ = net.backward(gradient)
            adam.step()
            adam.zeroGradients()
        } else {
            _ = SpikeRateLoss.predictions(net.forward(x))
        }
    }
    iteration()   // warm-up: first-touch of buffers, BLAS thread start
    let clock = ContinuousClock()
    let start = clock.now
    let cpuStart = processCPUSeconds()
    var iterations = 0
    var elapsed = 0.0
    while iterations < 2 || elapsed < budget {
        iteration()
        iterations += 1
        elapsed = seconds(clock.now - start)
    }
    let samples = Double(iterations * batch)
    let cpuSeconds: Double = processCPUSeconds() - cpuStart
    let threads: String = ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "default"
    return BenchResult(model: model, task: task, batch: batch, samples_per_second: samples / elapsed,
                       peak_rss_mb: peakRSSMegabytes(), iterations: iterations, threads: threads,
                       samples_per_cpu_second: samples / cpuSeconds, load_average: loadAverage())
}

func argument(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

/// The usage lines of the header comment, printed for `--help` and for an unknown option.
let usage = """
    usage:
      spikefuse-bench [--seconds S] [--out bench/results.json]      all configurations (writes --out)
      spikefuse-bench --single <visual|auditory|auditory+MODEL> <train|infer> <batch> [--seconds S]
      spikefuse-bench --neurons [--batch 32] [--seconds S] [--out bench/results-neurons.json] [--peer PYTHON]
                      training samples/s of each neuron model on the auditory network shape; with
                      --peer, each followed by the PyTorch peer's (PYTHON bench/peer_bench.py --neuron-json)
      spikefuse-bench --profile <visual|auditory|NETWORK.json> <batch> [--iterations N] [--data F]   per-layer times
      spikefuse-bench --crossover     dense vs event-driven kernel times by input density
      spikefuse-bench --gemm-peak [--seconds S]   OpenBLAS SGEMM GFLOP/s: square peak and training's thin shapes, then DenseKernels against OpenBLAS
      spikefuse-bench --prepare [--data-dir runs/bench-data] [--weights W [--inputs DATA]] [--train-batches 60]
      spikefuse-bench --prepare-network NETWORK.json --out DATA [--batch 32] [--density 0.1] [--firing 0.05]   a described network's shared file
      spikefuse-bench --side-by-side <multimodal|visual|audio|network:NETWORK.json> <train|infer|stream> <batch> --data FILE
                      [--unfused: conv, LIF and pool as separate layers (no fused pass, inference or training); needs SPIKEFUSE_THREADS=1]
      spikefuse-bench --data-path JOINT_DIR [--batch 32] [--batches 20]   batch assembly vs the step
      spikefuse-bench --profile-mm FILE [--batch 32] [--iterations N] [--kernel K]
      spikefuse-bench --readers [--events 1000000] [--seconds 2]   event-file readers' decoding speed (events/s)
    bench/run.sh runs everything side by side with the PyTorch peer (docs/speed.md).

    """
if CommandLine.arguments.contains("--help") || CommandLine.arguments.contains("-h") {
    print(usage, terminator: "")
    exit(0)
}
let knownOptions: Set<String> = ["--seconds", "--out", "--single", "--profile", "--iterations", "--crossover", "--gemm-peak",
                                 "--prepare", "--data-path", "--batches", "--data-dir", "--weights", "--inputs", "--train-batches", "--side-by-side",
                                 "--data", "--timesteps", "--unfused", "--profile-mm", "--batch", "--kernel",
                                 "--readers", "--events", "--prepare-network", "--density", "--firing", "--neurons", "--peer"]
if let unknown = CommandLine.arguments.dropFirst().first(where: { $0.hasPrefix("--") && !knownOptions.contains($0) }) {
    FileHandle.standardError.write("spikefuse-bench: unknown option \(unknown)\n\(usage)".data(using: .utf8)!)
    exit(2)
}
/// Runs one mode's work and exits: status 0, or 1 with "spikefuse-bench OPTION: error" on stderr.
func runMode(_ option: String, _ body: () throws -> Void) -> Never {
    do {
        try body()
    } catch {
        FileHandle.standardError.write("spikefuse-bench \(option): \(error)\n".data(using: .utf8)!)
        exit(1)
    }
    exit(0)
}

let budget = Double(argument("--seconds") ?? "5") ?? 5
let encoder = JSONEncoder()
encoder.outputFormatting = [.prettyPrinted, .sortedKeys]

if CommandLine.arguments.contains("--prepare") {
    // Writes the shared weights + inputs files (BenchData) that are missing.
    let directory = URL(fileURLWithPath: argument("--data-dir") ?? "runs/bench-data")
    let weights = argument("--weights").map { URL(fileURLWithPath: $0) }
    runMode("--prepare") {
        try BenchData.prepare(directory: directory, demoWeights: weights,
                              demoData: argument("--inputs").map { URL(fileURLWithPath: $0) }, trainBatches: Int(argument("--train-batches") ?? "60") ?? 60)
    }
}

if let folder = argument("--data-path") {
    runMode("--data-path") {
        try measureDataPath(folder: folder, batch: Int(argument("--batch") ?? "32") ?? 32,
                            batches: Int(argument("--batches") ?? "20") ?? 20)
    }
}

if let i = CommandLine.arguments.firstIndex(of: "--prepare-network") {
    // --prepare-network FILE --out DATA [--batch B] [--density D]: the shared file of a described network.
    let args = CommandLine.arguments
    guard i + 1 < args.count, let out = argument("--out") else {
        FileHandle.standardError.write("usage: spikefuse-bench --prepare-network NETWORK.json --out DATA.safetensors [--batch 32] [--density 0.1]\n".data(using: .utf8)!)
        exit(2)
    }
    runMode("--prepare-network") {
        try NetworkBench.prepare(network: URL(fileURLWithPath: args[i + 1]), out: URL(fileURLWithPath: out),
                                 batch: Int(argument("--batch") ?? "32") ?? 32, density: Double(argument("--density") ?? "0.1") ?? 0.1,
                                 firing: Double(argument("--firing") ?? "0.05") ?? 0.05)
    }
}

if let i = CommandLine.arguments.firstIndex(of: "--side-by-side") {
    // --side-by-side <multimodal|visual|audio|network:FILE> <train|infer|stream> <batch> --data FILE: one JSON line.
    let args = CommandLine.arguments
    guard i + 3 < args.count, let batch = Int(args[i + 3]), batch > 0, let data = argument("--data") else {
        FileHandle.standardError.write("usage: spikefuse-bench --side-by-side <multimodal|visual|audio> <train|infer|stream> <batch> --data FILE [--seconds S]\n".data(using: .utf8)!)
        exit(2)
    }
    runMode("--side-by-side") {
        let result = try sideBySide(model: args[i + 1], task: args[i + 2], batch: batch, dataPath: data, budget: budget,
                                    timesteps: argument("--timesteps").flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil },
                                    unfused: CommandLine.arguments.contains("--unfused"))
        let compact = JSONEncoder()
        compact.outputFormatting = [.sortedKeys]
        print(String(data: try compact.encode(result), encoding: .utf8)!)
    }
}

if let i = CommandLine.arguments.firstIndex(of: "--profile-mm") {
    let args = CommandLine.arguments
    guard i + 1 < args.count else {
        FileHandle.standardError.write("usage: spikefuse-bench --profile-mm <data file> [--batch B] [--iterations N]\n".data(using: .utf8)!)
        exit(2)
    }
    runMode("--profile-mm") {
        try profileMultimodal(dataPath: args[i + 1], batch: Int(argument("--batch") ?? "32") ?? 32,
                              iterations: Int(argument("--iterations") ?? "2") ?? 2,
                              kernel: argument("--kernel").flatMap { name -> SynapticKernel? in
                                  switch name {
                                  case "dense": return .dense
                                  case "sparse": return .sparse
                                  default: return Float(name).map { .automatic(maxDensity: $0) }
                                  }
                              })
    }
}

if CommandLine.arguments.contains("--readers") {
    runMode("--readers") {
        try ReaderThroughput.run(count: Int(argument("--events") ?? "1000000") ?? 1_000_000,
                                 seconds: Double(argument("--seconds") ?? "2") ?? 2)
    }
}

if CommandLine.arguments.contains("--gemm-peak") {
    measureGemmPeak(seconds: Double(argument("--seconds") ?? "2") ?? 2)
    measureDenseKernels(seconds: Double(argument("--seconds") ?? "2") ?? 2)
    exit(0)
}

if CommandLine.arguments.contains("--crossover") {
    measureCrossover()
    exit(0)
}

if let i = CommandLine.arguments.firstIndex(of: "--profile") {
    let args = CommandLine.arguments
    guard i + 2 < args.count, let batch = Int(args[i + 2]), batch > 0 else {
        FileHandle.standardError.write("usage: spikefuse-bench --profile <visual|auditory|NETWORK.json> <batch> [--iterations N] [--data FILE]\n".data(using: .utf8)!)
        exit(2)
    }
    let iterations = Int(argument("--iterations") ?? "3") ?? 3
    runMode("--profile") {
        // visual, auditory: the shipped paper networks; else a description file
        let d = try BenchModel(rawValue: args[i + 1]).map { try PaperNetworks.shipped($0 == .visual ? .visual : .audio) }
            ?? NetworkDescription.load(URL(fileURLWithPath: args[i + 1]))
        let branch = d.branches[0]
        let net: Sequential, input: Tensor?
        if let data = argument("--data") {
            // the prepared file's calibrated weights and input spikes (`--prepare-network`)
            let model = try MultimodalNetwork(try ModelConfiguration(network: d), seed: 1)
            let tensors = try SafeTensors.read(URL(fileURLWithPath: data)).tensors
            try model.load(tensors, source: data)
            net = (branch.input.modality == .dvs ? model.visual : model.audio)!
            let name = branch.input.modality == .dvs ? "input.visual" : "input.audio"
            guard let x = tensors[name], x.rank >= 2, x.shape[1] >= batch else {
                throw BenchError.usage("\(data): no tensor '\(name)' [T, ≥ \(batch), …] (written by --prepare-network)")
            }
            input = x
        } else {
            var rng = SeededGenerator(seed: 1)
            (net, _) = try NetworkBuilder.build(branch, classes: d.classes, rng: &rng)
            input = nil
        }
        try profileLayers(network: net, branch: branch, timesteps: d.timesteps, classes: d.classes,
                          batch: batch, iterations: iterations, input: input)
    }
}

if let i = CommandLine.arguments.firstIndex(of: "--single") {
    let args = CommandLine.arguments
    guard i + 3 < args.count, let model = Optional(args[i + 1]),
          BenchModel(rawValue: model) != nil || NeuronBench.network(model, seed: 1) != nil,
          ["train", "infer"].contains(args[i + 2]), let batch = Int(args[i + 3]), batch > 0 else {
        FileHandle.standardError.write("usage: spikefuse-bench --single <visual|auditory|auditory+MODEL> <train|infer> <batch>\n".data(using: .utf8)!)
        exit(2)
    }
    let result = runSingle(model: model, task: args[i + 2], batch: batch, budget: budget)
    print(String(data: try! encoder.encode(result), encoding: .utf8)!.replacingOccurrences(of: "\n", with: " "))
    exit(0)
}

/// One row of the table `runConfigurations` prints.
func printRow(_ r: BenchResult) {
    print(String(format: "%-9@ %-6@ %5d %11.1f %15.1f %15.0f %12d %10.2f", r.model, r.task, r.batch,
                 r.samples_per_second, r.samples_per_cpu_second, r.peak_rss_mb, r.iterations, r.load_average))
}

/// Runs `executable` with `arguments` and decodes the one `BenchResult` it prints; exits
/// naming `failure` when it cannot start, fails, or prints something else.
func runChild(_ executable: URL, _ arguments: [String], failure: String) -> BenchResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    do { try process.run() } catch {
        FileHandle.standardError.write("cannot start \(executable.path): \(error)\n".data(using: .utf8)!)
        exit(1)
    }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0, let result = try? JSONDecoder().decode(BenchResult.self, from: data) else {
        FileHandle.standardError.write("\(failure) failed\n".data(using: .utf8)!)
        exit(1)
    }
    return result
}

/// Runs each configuration in its own child process (so its peak RSS is its own), printing
/// a table row per configuration; exits on a failed one.
func runConfigurations(_ configurations: [(String, String, Int)]) -> [BenchResult] {
    var results: [BenchResult] = []
    print("model     task   batch   samples/s   samples/CPU-s   peak RSS (MB)   iterations   load avg")
    for (model, task, batch) in configurations {
        let result = runChild(URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL,
                              ["--single", model, task, String(batch), "--seconds", String(budget)],
                              failure: "configuration \(model) \(task) \(batch)")
        results.append(result)
        printRow(result)
    }
    return results
}

let outPath = argument("--out") ?? (CommandLine.arguments.contains("--neurons") ? "bench/results-neurons.json" : "bench/results.json")
let configurations: [(String, String, Int)] = CommandLine.arguments.contains("--neurons")
    ? NeuronBench.variants.map { (NeuronBench.name($0.name), "train", Int(argument("--batch") ?? "32") ?? 32) }
    : [("visual", "train", 32), ("visual", "infer", 32), ("visual", "infer", 1),
       ("auditory", "train", 32), ("auditory", "infer", 32), ("auditory", "infer", 1)]
var results = runConfigurations(configurations)
if CommandLine.arguments.contains("--neurons"), let python = argument("--peer") {
    print("the PyTorch peer (bench/peer_bench.py --neuron-json: the fastest of the fused, loop and compiled formulations):")
    for variant in NeuronBench.variants {
        let batch = Int(argument("--batch") ?? "32") ?? 32
        var result = runChild(URL(fileURLWithPath: "/usr/bin/env"),
                              [python, "bench/peer_bench.py", "--neuron-json", NeuronBench.json(NeuronBench.neuron(variant)),
                               "--batch", String(batch), "--seconds", String(budget)],
                              failure: "the peer of \(variant.name)")
        result.model = NeuronBench.name(variant.name)
        results.append(result)
        printRow(result)
    }
}
do {
    try encoder.encode(results).write(to: URL(fileURLWithPath: outPath))
    print("wrote \(outPath)")
} catch {
    FileHandle.standardError.write("cannot write \(outPath): \(error)\n".data(using: .utf8)!)
    exit(1)
}
