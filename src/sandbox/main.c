/* outlayer-sandbox: the sandbox as a standalone executable (tests, benchmarks). */
#include "sandbox/sandbox.h"

int main(int argc, char **argv) { return sandbox_main(argc, argv); }
