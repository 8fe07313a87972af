// HDF5 C library (Debian: libhdf5-dev), used for N-TIDIGITS files.
#include <hdf5.h>
