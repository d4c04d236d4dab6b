/* outlayer: one executable, subcommands in a table (DESIGN.md §2). Adding a subcommand is one line
 * here and one function cli_cmd_<name> declared in cli.h. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

typedef struct cli_cmd {
    const char *name;
    const char *summary;
    int (*fn)(int argc, char **argv);
} cli_cmd;

static const cli_cmd cmds[] = {
    {"dev", "run the whole stack on this machine (chain, contracts, coordinator, worker); --demo plays a round", cli_cmd_dev},
    {"run", "run a WASI program exactly as a worker would, under the same limits", cli_cmd_run},
    {"keys", "generate a NEAR key pair into a near-cli credentials file (prints the public key)", cli_cmd_keys},
    {"view", "call a contract's view method and print the JSON it returns", cli_cmd_view},
    {"call", "sign and send a function call (--as ACCOUNT), print the outcome", cli_cmd_call},
    {"tx", "print a transaction's status and outcome (--sender ACCOUNT)", cli_cmd_tx},
    {"request", "ask OutLayer to run a program (request_execution); --wait prints output, fee, refund", cli_cmd_request},
    {"status", "show a pending OutLayer request, or that it is settled", cli_cmd_status},
    {"coordinator", "the task API server, and its worker tokens (token create|revoke|list)", cli_cmd_coordinator},
    {"sandbox", "a local NEAR-compatible chain (--home DIR --port N --block-ms MS)", cli_cmd_sandbox},
    {"worker", "a worker: builds, runs and answers requests from the coordinator", cli_cmd_worker},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: outlayer COMMAND [OPTIONS] [ARGS...]\n"
                 "       outlayer --help | --version\n\n"
                 "OutLayer: verifiable off-chain computation for NEAR smart contracts.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) fprintf(out, "  %-12s %s\n", cmds[i].name, cmds[i].summary);
    fprintf(out, "\n`outlayer COMMAND --help` describes a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("outlayer %s\n", OUTLAYER_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(argv[1], cmds[i].name) == 0) return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "outlayer: unknown command '%.64s' (see outlayer --help)\n", argv[1]);
    return CLI_EXIT_USAGE;
}
