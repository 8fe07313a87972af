import CMPI
import Foundation
import Multimodal

/// The ranks `mpirun` (or another MPI launcher) started, as a `ProcessGroup` over
/// `MPI_COMM_WORLD` (Open MPI, Debian's libopenmpi-dev).
///
/// Only point-to-point `MPI_Sendrecv` is used: the trainer builds its reductions on
/// `exchange` in a fixed order (`FixedOrderSum`) instead of `MPI_Allreduce`, whose summation
/// order belongs to the MPI library and changes with the number of ranks. MPI's default error
/// handler (errors are fatal) stays: a failed call ends the whole job, and when a rank dies
/// `mpirun` ends the others, so no rank waits forever.
public final class MPIProcessGroup: ProcessGroup {
    public let rank: Int
    public let size: Int
    /// Ranks on this machine (`OMPI_COMM_WORLD_LOCAL_SIZE`; 1 when unknown).
    public let localSize: Int
    private let world = spikefuse_mpi_comm_world()

    /// Whether an MPI launcher started this process (Open MPI's, or a PMI/PMIx one such as
    /// Slurm's `srun`). A plain `spikefuse …` is not, and never starts MPI.
    public static func isLaunched(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"].contains { environment[$0] != nil }
    }

    /// `MPI_Init`; call once, before anything else talks to other ranks.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        MPI_Init(nil, nil)
        var r: Int32 = 0, n: Int32 = 0
        MPI_Comm_rank(world, &r)
        MPI_Comm_size(world, &n)
        rank = Int(r); size = Int(n)
        localSize = max(1, Int(environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? 1)
    }

    public func exchange(_ send: UnsafeRawBufferPointer, with partner: Int, into receive: UnsafeMutableRawBufferPointer) {
        precondition(send.count == receive.count, "exchange: sending \(send.count) bytes but receiving \(receive.count)")
        precondition(partner >= 0 && partner < size && partner != rank, "exchange: rank \(rank) cannot exchange with \(partner)")
        // MPI counts are Int32: move large vectors in chunks of 1 GiB.
        let chunk = 1 << 30
        var offset = 0
        repeat {
            let n = min(chunk, send.count - offset)
            MPI_Sendrecv(send.baseAddress.map { $0 + offset }, Int32(n), spikefuse_mpi_byte(), Int32(partner), 17,
                         receive.baseAddress.map { $0 + offset }, Int32(n), spikefuse_mpi_byte(), Int32(partner), 17,
                         world, spikefuse_mpi_status_ignore())
            offset += n
        } while offset < send.count
    }

    public func barrier() { MPI_Barrier(world) }

    public func abort(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        MPI_Abort(world, 1)
        exit(1)
    }

    /// `MPI_Finalize`; every rank calls it once, last.
    public func finish() { MPI_Finalize() }
}
