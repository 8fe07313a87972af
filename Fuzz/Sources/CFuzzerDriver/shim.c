// Header-only target: the declaration lives in include/CFuzzerDriver.h.
#include "CFuzzerDriver.h"
