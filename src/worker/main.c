/* outlayer-worker: the worker as its own executable (the CLI also runs it as `outlayer worker`). */
#include "worker/worker.h"

int main(int argc, char **argv) { return worker_main(argc, argv); }
