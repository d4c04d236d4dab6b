/* outlayer-coordinator: the coordinator as its own executable (tests, deployments without the CLI). */
#include "coordinator/coordinator.h"

int main(int argc, char **argv) { return coordinator_main(argc, argv); }
