// LZ4 (Debian: liblz4-dev): the LZ4 frames of compressed AEDAT 4.0 packets.
#include <lz4frame.h>
