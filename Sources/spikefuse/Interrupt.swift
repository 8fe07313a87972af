import Foundation

/// Ctrl-C (SIGINT) handling for long jobs: the first Ctrl-C asks the job to stop after the
/// current batch (checkpoints stay consistent, `--resume` continues); a second one exits.
enum Interrupt {
    /// Written only by the signal handler, read by the training loop; a torn read is
    /// impossible for a Bool, and a late read only delays the stop by one batch.
    nonisolated(unsafe) static var requested = false

    static func install() {
        signal(SIGINT) { _ in
            if Interrupt.requested { _exit(130) }
            Interrupt.requested = true
            let message = "\nstopping after this batch (Ctrl-C again to quit now)\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
        }
    }
}
