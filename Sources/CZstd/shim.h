// Zstandard (Debian: libzstd-dev): the Zstd frames of compressed AEDAT 4.0 packets.
#include <zstd.h>
