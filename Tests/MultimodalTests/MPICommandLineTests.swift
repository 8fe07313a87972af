import XCTest
import Foundation
import Multimodal

/// `mpirun -np N spikefuse …` on this machine's loopback: data-parallel training gives the
/// weights of one process bit for bit (N = 2, 4), resumes under MPI with another N, spreads
/// an experiment's runs over the ranks, and a rank that dies ends the job instead of hanging.
/// Skips only where `mpirun` is missing (`make test` installs Open MPI).
final class MPICommandLineTests: XCTestCase {
    private var dir: URL!
    override func setUp() {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("sf-mpi-\(UUID())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    /// One thread per process everywhere, as ranks sharing this machine's cores use.
    private let oneThread = ["SPIKEFUSE_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"]

    private func mpirun() throws -> String {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(folder)/mpirun"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw XCTSkip("mpirun not found on PATH: install Open MPI (Debian: openmpi-bin libopenmpi-dev; `make test` does)")
    }

    private var spikefuse: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("spikefuse").path
    }

    /// Runs `mpirun --oversubscribe -np N spikefuse ARGS` (as root too, as CI does) and
    /// returns its status and output; `whileRunning` sees the launcher's process id.
    private func runMPI(_ ranks: Int, _ arguments: [String], timeout: TimeInterval = 300,
                        whileRunning: ((Int32) -> Void)? = nil) throws -> ToolResult {
        let launcher = try mpirun()
        guard FileManager.default.isExecutableFile(atPath: spikefuse) else { throw XCTSkip("spikefuse binary not found at \(spikefuse)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: launcher)
        p.arguments = ["--oversubscribe", "-np", String(ranks), spikefuse] + arguments
        p.environment = ProcessInfo.processInfo.environment.merging(
            ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_rmaps_base_oversubscribe": "1",
             // containers often forbid the cross-memory attach that shared-memory transfers try first
             "OMPI_MCA_btl_vader_single_copy_mechanism": "none"]
        ) { $1 }
        let out = dir.appendingPathComponent("mpirun-\(UUID()).out"), err = dir.appendingPathComponent("mpirun-\(UUID()).err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        whileRunning?(p.processIdentifier)
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        if p.isRunning {
            p.terminate()
            XCTFail("mpirun -np \(ranks) \(arguments.joined(separator: " ")) still running after \(timeout) s (a hang)")
            p.waitUntilExit()
        }
        return ToolResult(status: p.terminationStatus,
                          stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                          stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    private func train(_ out: String, epochs: Int, seed: Int = 4, extra: [String] = []) -> [String] {
        ["train", "--synthetic", "--out", dir.appendingPathComponent(out).path, "--epochs", String(epochs),
         "--batch-size", "16", "--seed", String(seed)] + extra
    }

    private func weights(_ run: String) throws -> Data {
        try Data(contentsOf: dir.appendingPathComponent(run).appendingPathComponent("weights.safetensors"))
    }

    func testRanksTrainBitIdenticalWeightsToOneProcess() throws {
        _ = try mpirun()
        let single = try runSpikefuse(train("one", epochs: 2), environment: oneThread)
        XCTAssertEqual(single.status, 0, single.stderr)
        for ranks in [2, 4] {
            let r = try runMPI(ranks, train("ranks\(ranks)", epochs: 2))
            XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
            XCTAssertTrue(r.stdout.contains("on \(ranks) ranks (4 gradient shards per batch)"), r.stdout)
            XCTAssertEqual(r.stdout.components(separatedBy: "epoch 2 ").count - 1, 1, "rank 0 alone prints: \(r.stdout)")
            XCTAssertEqual(try weights("ranks\(ranks)"), try weights("one"), "\(ranks) ranks trained other weights than one process")
        }
        // The check can fail: another seed gives other weights.
        XCTAssertEqual(try runSpikefuse(train("other", epochs: 2, seed: 5), environment: oneThread).status, 0)
        XCTAssertNotEqual(try weights("other"), try weights("one"))
    }

    func testResumeUnderMPIWithAnotherRankCount() throws {
        _ = try mpirun()
        // A run extended from 2 to 3 epochs matches a 3-epoch run only at a constant rate: the
        // cosine schedule follows the total epoch count.
        let constant = ["--lr-schedule", "constant"]
        XCTAssertEqual(try runSpikefuse(train("whole", epochs: 3, extra: constant), environment: oneThread).status, 0)
        let first = try runMPI(2, train("resumed", epochs: 2, extra: constant))
        XCTAssertEqual(first.status, 0, first.stderr)
        let second = try runMPI(4, train("resumed", epochs: 3, extra: constant + ["--resume"]))
        XCTAssertEqual(second.status, 0, second.stdout + second.stderr)
        XCTAssertTrue(second.stdout.contains("epoch 3 "), second.stdout)
        XCTAssertFalse(second.stdout.contains("epoch 2 "), "resume continues after epoch 2: \(second.stdout)")
        XCTAssertEqual(try weights("resumed"), try weights("whole"), "2 ranks then 4 ranks resumed ≠ one uninterrupted process")
        let metrics = try String(contentsOf: dir.appendingPathComponent("resumed/metrics.jsonl"), encoding: .utf8)
        XCTAssertEqual(metrics.split(separator: "\n").count, 3)
        XCTAssertTrue(metrics.contains("\"ranks\":4"), metrics)
        // TensorBoard: rank 0 alone writes, one file, every epoch once (as metrics.jsonl has it).
        let run = RunDirectory(dir.appendingPathComponent("resumed"))
        XCTAssertEqual(TensorBoardLog(run).eventFiles().count, 1)
        XCTAssertEqual(try TensorBoardLog(run).read().dropFirst().map(\.self), try run.readMetrics().flatMap(TensorBoardLog.events(of:)))
    }

    func testRanksThatCannotShareTheShardsStopWithAClearError() throws {
        let r = try runMPI(3, train("three", epochs: 1), timeout: 60)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("3 ranks cannot share 4 gradient shards"), r.stderr)
    }

    func testExperimentSpreadsItsRunsOverTheRanks() throws {
        _ = try mpirun()
        let args = { (out: String) in
            ["experiment", "--synthetic", "--out", self.dir.appendingPathComponent(out).path, "--repeats", "2",
             "--modes", "visual,audio", "--epochs", "1", "--batch-size", "16"]
        }
        let single = try runSpikefuse(args("alone"), environment: oneThread)
        XCTAssertEqual(single.status, 0, single.stderr)
        let spread = try runMPI(2, args("spread"))
        XCTAssertEqual(spread.status, 0, spread.stdout + spread.stderr)
        XCTAssertTrue(spread.stdout.contains("rank 1 of 2"), spread.stdout)
        for (mode, seed) in [("visual", 1), ("audio", 1), ("visual", 2), ("audio", 2)] {
            XCTAssertEqual(try weights("spread/\(mode)/seed-\(seed)"), try weights("alone/\(mode)/seed-\(seed)"), "\(mode) seed \(seed)")
        }
        let table = { (run: String) in try String(contentsOf: self.dir.appendingPathComponent("\(run)/table1.csv"), encoding: .utf8) }
        let spreadTable = try table("spread")
        XCTAssertEqual(spreadTable, try table("alone"))
        XCTAssertTrue(spreadTable.contains("visual,2,"), spreadTable)
    }

    /// A rank killed mid-training (SIGKILL: no chance to say goodbye) ends the job with an
    /// error instead of leaving the other rank waiting for its gradients.
    func testARankThatDiesEndsTheJob() throws {
        _ = try mpirun()
        let out = dir.appendingPathComponent("killed").path
        var killed = false
        let r = try runMPI(2, ["train", "--synthetic", "--out", out, "--epochs", "500", "--batch-size", "4"], timeout: 120) { _ in
            // Wait for rank 1 (its environment says so), let it train, then kill it.
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline && !killed {
                if let pid = Self.process(commandLineContaining: out, rank: 1),
                   FileManager.default.fileExists(atPath: out + "/metrics.jsonl") {
                    usleep(500_000)
                    kill(pid, SIGKILL)
                    killed = true
                } else {
                    usleep(100_000)
                }
            }
        }
        XCTAssertTrue(killed, "rank 1 was never found")
        print("mpirun after the kill:\n" + r.stdout.suffix(400) + "\n" + r.stderr.suffix(800))
        XCTAssertNotEqual(r.status, 0, "the job must fail when a rank dies")
        XCTAssertTrue((r.stdout + r.stderr).lowercased().contains("signal 9") || (r.stdout + r.stderr).contains("killed"),
                      r.stdout + r.stderr)
    }

    /// The process whose command line contains `text` and whose environment says it is MPI rank `rank`.
    static func process(commandLineContaining text: String, rank: Int) -> Int32? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry),
                  let cmd = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                  String(decoding: cmd, as: UTF8.self).contains(text),
                  let env = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { continue }
            let vars = String(decoding: env, as: UTF8.self).split(separator: "\0")
            if vars.contains(Substring("OMPI_COMM_WORLD_RANK=\(rank)")) { return pid }
        }
        return nil
    }
}
