#include <stddef.h>
#include <stdint.h>

// libFuzzer's driver, in the runtime `-sanitize=fuzzer` links: runs the fuzzing loop with the
// command line's options over `callback`. A program with a main of its own calls it (SwiftPM
// gives every executable one).
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
