// zlib (Debian: zlib1g-dev): deflate for PNG pictures, inflate for gzip'd IDX files.
#include <zlib.h>
