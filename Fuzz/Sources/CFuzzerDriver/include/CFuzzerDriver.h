// libFuzzer's driver entry point (compiler-rt, linked by -sanitize=fuzzer). SwiftPM renames an
// executable's `main`, so the harnesses start libFuzzer themselves through this function.
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
