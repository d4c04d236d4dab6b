/* cli: the `outlayer` command. main.c holds the subcommand table; each subcommand is a function
 * cli_cmd_<name>(argc, argv) that gets argv from its own name on and returns the process exit code. */
#ifndef OUTLAYER_CLI_H
#define OUTLAYER_CLI_H

#define OUTLAYER_VERSION "0.1.0"

/* Exit codes of `outlayer run` other than the guest's own (documented in --help and docs/wasi.md).
 * They sit above the range programs commonly use and below the shell's 126..165; a guest may still
 * exit with any of them itself: --stats-json is authoritative. */
#define CLI_EXIT_USAGE 64          /* bad command line (sysexits EX_USAGE) */
#define CLI_EXIT_NOINPUT 66        /* the module file or stdin cannot be read (EX_NOINPUT) */
#define CLI_EXIT_SOFTWARE 70       /* internal error, e.g. out of memory (EX_SOFTWARE) */
#define CLI_EXIT_CANTCREAT 73      /* the --stats-json file cannot be written (EX_CANTCREAT) */
#define CLI_EXIT_INVALID_MODULE 120
#define CLI_EXIT_TRAP 121
#define CLI_EXIT_OUT_OF_FUEL 122
#define CLI_EXIT_TIMEOUT 123
#define CLI_EXIT_MEMORY_LIMIT 124
#define CLI_EXIT_OUTPUT_LIMIT 125

/* 64 MiB of stdin for `outlayer run`: the contract caps input at 64 KiB; this leaves room for local
 * experiments while bounding the host memory one run can take. */
#define CLI_MAX_STDIN_BYTES (64u << 20)

int cli_cmd_run(int argc, char **argv);
/* cmd_dev.c: the whole stack on one machine */
int cli_cmd_dev(int argc, char **argv);
/* cmd_services.c: the services, argv[0] = the command name */
int cli_cmd_coordinator(int argc, char **argv);
int cli_cmd_sandbox(int argc, char **argv);
int cli_cmd_worker(int argc, char **argv);

#endif
