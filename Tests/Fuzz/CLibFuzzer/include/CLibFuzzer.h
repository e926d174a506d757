// libFuzzer's entry point for programs with a main of their own (libFuzzer docs, "Using libFuzzer as a library").
// SwiftPM links every executable with its own main, so the fuzz targets start libFuzzer through this.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
