/* `outlayer keys generate [--account ID] [--out FILE]`: a new ed25519 key pair written as a near-cli
 * credentials file (mode 0600, never over an existing file); prints the account and public key, never
 * the secret. Without --account the key's NEAR-implicit account id (hex of the public key) is used;
 * without --out the file is DIR/NETWORK/ACCOUNT.json, near-cli's layout (directories created 0700). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

static void keys_usage(FILE *f)
{
    fprintf(f, "usage: outlayer keys generate [--account ID] [--out FILE] [--credentials DIR] [--network NAME]\n"
               "Writes a new ed25519 key as {account_id, public_key, private_key} (mode 0600) to FILE, or to\n"
               "DIR/NETWORK/ID.json (DIR default ~/.near-credentials, NETWORK default %s). Refuses to overwrite.\n"
               "Without --account, ID is the key's implicit account (64 hex digits). Prints {account_id, public_key, file}.\n",
            CLI_DEFAULT_NETWORK);
}

/* mkdir -p with mode 0700 for the directories it creates. */
static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        int r = mkdir(path, 0700);
        *p = '/';
        if (r && errno != EEXIST) return -1;
    }
    return mkdir(path, 0700) && errno != EEXIST ? -1 : 0;
}

int cli_cmd_keys(int argc, char **argv)
{
    const char *cmd = "keys generate";
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        keys_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : 0;
    }
    if (strcmp(argv[1], "generate") != 0) {
        fprintf(stderr, "outlayer keys: unknown subcommand '%.64s' (only: generate)\n", argv[1]);
        return CLI_EXIT_USAGE;
    }
    cli_near_opts o = {0};
    const char *account = NULL, *out = NULL;
    int r;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            keys_usage(stdout);
            return 0;
        }
        if ((r = cli_near_opt(&o, argc, argv, &i, cmd)) < 0) return CLI_EXIT_USAGE;
        if (r) continue;
        if ((r = cli_opt(argc, argv, &i, "--account", &account)) || (r = cli_opt(argc, argv, &i, "--out", &out))) {
            if (r < 0) {
                fprintf(stderr, "outlayer %s: %s needs a value\n", cmd, argv[i]);
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        fprintf(stderr, "outlayer %s: unexpected argument '%.64s' (see outlayer keys --help)\n", cmd, argv[i]);
        return CLI_EXIT_USAGE;
    }
    if ((account && cli_check_account(cmd, "--account", account)) || cli_near_finish(&o, cmd)) return CLI_EXIT_USAGE;
    near_credentials c = {0};
    ol_err err = {0};
    if (near_key_generate(&c.secret_key, &c.public_key, &err)) {
        fprintf(stderr, "outlayer %s: %s\n", cmd, err.msg);
        return CLI_EXIT_SOFTWARE;
    }
    if (account) ol_strlcpy(c.account_id, account, sizeof c.account_id);
    else if (near_implicit_account_id(&c.public_key, c.account_id, &err)) {
        fprintf(stderr, "outlayer %s: %s\n", cmd, err.msg);
        return CLI_EXIT_SOFTWARE;
    }
    char path[2048];
    if (out) {
        if (!ol_strlcpy(path, out, sizeof path)) {
            fprintf(stderr, "outlayer %s: --out path longer than %zu bytes\n", cmd, sizeof path - 1);
            return CLI_EXIT_USAGE;
        }
    } else {
        int n = snprintf(path, sizeof path, "%s/%s.json", o.net_dir, c.account_id);
        if (n < 0 || (size_t)n >= sizeof path) {
            fprintf(stderr, "outlayer %s: credentials path longer than %zu bytes\n", cmd, sizeof path - 1);
            return CLI_EXIT_USAGE;
        }
        char dir[sizeof o.net_dir];
        ol_strlcpy(dir, o.net_dir, sizeof dir);
        if (mkdirs(dir)) {
            fprintf(stderr, "outlayer %s: cannot create %s: %s\n", cmd, o.net_dir, strerror(errno));
            return CLI_EXIT_CANTCREAT;
        }
    }
    /* near_credentials_write replaces atomically; a key file already there is someone's key: keep it */
    if (access(path, F_OK) == 0) {
        fprintf(stderr, "outlayer %s: %s already exists; not overwriting a key (choose --out or --account)\n", cmd,
                path);
        return CLI_EXIT_CANTCREAT;
    }
    int rc = near_credentials_write(path, &c, &err);
    near_secret_key zero = {0};
    c.secret_key = zero;
    if (rc) {
        fprintf(stderr, "outlayer %s: cannot write %s: %s\n", cmd, path, err.msg);
        return CLI_EXIT_CANTCREAT;
    }
    char pk[NEAR_KEY_STR];
    near_public_key_format(&c.public_key, pk);
    json_t *j = json_pack("{s:s,s:s,s:s}", "account_id", c.account_id, "public_key", pk, "file", path);
    cli_print_json(j);
    json_decref(j);
    return 0;
}
