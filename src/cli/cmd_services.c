/* `outlayer coordinator|sandbox|worker ...`: the long-running services, each the same entry point as its
 * standalone executable (outlayer-coordinator, outlayer-sandbox, outlayer-worker). argv[0] is the
 * command name, so their usage messages read `coordinator ...`. */
#include "cli/cli.h"
#include "coordinator/coordinator.h"
#include "sandbox/sandbox.h"
#include "worker/worker.h"

int cli_cmd_coordinator(int argc, char **argv) { return coordinator_main(argc, argv); }
int cli_cmd_sandbox(int argc, char **argv) { return sandbox_main(argc, argv); }
int cli_cmd_worker(int argc, char **argv) { return worker_main(argc, argv); }
