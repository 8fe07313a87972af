// Open MPI C library (Debian: libopenmpi-dev), for data-parallel training across processes.
// Open MPI's handles (MPI_COMM_WORLD, MPI_BYTE, MPI_STATUS_IGNORE) are macros over addresses
// of global objects, which Swift does not import; these inline functions hand them over.
#include <mpi.h>

static inline MPI_Comm spikefuse_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype spikefuse_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Status *spikefuse_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
