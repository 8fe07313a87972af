@preconcurrency import Glibc
import Foundation
import MPICluster
import Multimodal
import SpikeTensor

/// The processes this command runs in: this one alone, or every rank `mpirun` started.
/// `spikefuse …` never needs MPI; `mpirun -np N spikefuse train …` trains data-parallel and
/// `mpirun -np N spikefuse experiment …` spreads the protocol's runs over the ranks.
enum Cluster {
    nonisolated(unsafe) private static var mpi: MPIProcessGroup?
    nonisolated(unsafe) private(set) static var group: ProcessGroup = SingleProcess()

    /// At start-up, before any computation: joins the MPI job if an MPI launcher started this
    /// process. Ranks sharing a machine share its cores: unless `OPENBLAS_NUM_THREADS` or
    /// `SPIKEFUSE_THREADS` says otherwise, each rank uses cores / ranks-on-this-machine threads.
    static func start() {
        guard MPIProcessGroup.isLaunched() else { return }
        let m = MPIProcessGroup()
        mpi = m; group = m
        let env = ProcessInfo.processInfo.environment
        let threads = max(1, ProcessInfo.processInfo.activeProcessorCount / m.localSize)
        if env["SPIKEFUSE_THREADS"] == nil { setenv("SPIKEFUSE_THREADS", String(threads), 1) }
        if env["OPENBLAS_NUM_THREADS"] == nil { BLAS.threads = threads }
    }

    static var isLeader: Bool { group.isLeader }

    /// Runs `body` on rank 0 first, then, once it has finished, on the other ranks: for work
    /// whose first run writes something the later runs read (the default data set, the
    /// frame cache), so ranks never race to write the same files.
    static func leaderFirst<T>(_ body: () throws -> T) rethrows -> T {
        guard group.size > 1 else { return try body() }
        if group.isLeader {
            let value = try body()
            group.barrier()
            return value
        }
        group.barrier()
        return try body()
    }

    /// Prints on rank 0 only.
    static func say(_ line: String) {
        if isLeader { print(line) }
    }

    /// A command failed: one process exits; a rank of an MPI job ends the whole job, naming
    /// itself, so the other ranks do not wait for it forever.
    static func fail(_ message: String, code: Int32) -> Never {
        if let mpi, mpi.size > 1 { mpi.abort("rank \(mpi.rank) of \(mpi.size): " + message) }
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(code)
    }

    /// Leaves the MPI job (every rank, at the end of a command that succeeded).
    static func finish() { mpi?.finish() }
}
