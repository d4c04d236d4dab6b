/* Settings table → values. Each setting is declared once (name, type, range, default, help) by the
 * module that owns it; this file parses it from the environment, then a `.env` file, then
 * command-line flags, each source overriding the previous one (DESIGN.md §7). A bad value is an error
 * naming the setting and the source. `--help` prints the table. */
#include "base/base.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct ol_config {
    const ol_cfg_def *defs;
    size_t n;
    char **values;        /* owned copies, one per def; NULL = unset */
    const char **sources; /* static strings: "default", "environment", ".env", "flag" */
    long long *ints;
    bool *bools;
    char **rest; /* borrowed from argv */
    size_t nrest;
};

static long long find_def(const ol_config *c, const char *name) {
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->defs[i].name, name) == 0) return (long long)i;
    return -1;
}

/* "PORT" <-> "--port": lower case, '_' as '-'. */
static bool flag_matches(const char *flag, const char *name) {
    for (; *flag && *name; flag++, name++) {
        char f = *flag == '-' ? '_' : (char)toupper((unsigned char)*flag);
        if (f != *name) return false;
    }
    return *flag == 0 && *name == 0;
}

static bool parse_bool(const char *s, bool *out) {
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) return *out = true, true;
        if (strcasecmp(s, no[i]) == 0) return *out = false, true;
    }
    return false;
}

static int set_value(ol_config *c, size_t i, const char *value, const char *source, ol_err *err) {
    const ol_cfg_def *d = &c->defs[i];
    size_t len = strlen(value);
    if (len > OL_CFG_VALUE_MAX)
        return ol_err_set(err, OL_CFG_ERR, "setting %s (from %s): value longer than %d bytes (OL_CFG_VALUE_MAX)",
                          d->name, source, OL_CFG_VALUE_MAX);
    if (d->type == OL_CFG_INT) {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end)
            return ol_err_set(err, OL_CFG_ERR, "setting %s (from %s): \"%.64s\" is not an integer", d->name, source,
                              value);
        if (v < d->min || v > d->max)
            return ol_err_set(err, OL_CFG_ERR, "setting %s (from %s): %lld is outside %lld..%lld", d->name, source, v,
                              d->min, d->max);
        c->ints[i] = v;
    } else if (d->type == OL_CFG_BOOL) {
        if (!parse_bool(value, &c->bools[i]))
            return ol_err_set(err, OL_CFG_ERR, "setting %s (from %s): \"%.64s\" is not a boolean (true/false)",
                              d->name, source, value);
    } else {
        if ((long long)len < d->min || (d->max > 0 && (long long)len > d->max))
            return ol_err_set(err, OL_CFG_ERR, "setting %s (from %s): length %zu is outside %lld..%lld", d->name,
                              source, len, d->min, d->max);
    }
    char *copy = strdup(value);
    if (!copy) return ol_err_set(err, OL_CFG_ERR, "setting %s: out of memory", d->name);
    free(c->values[i]);
    c->values[i] = copy;
    c->sources[i] = source;
    return 0;
}

/* Parses one .env line in place. Returns 0 and sets name and value (name NULL for a blank or
 * comment line), or an error. */
static int parse_env_line(char *line, char **name, char **value) {
    *name = NULL;
    char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == 0 || *p == '#') return 0;
    if (strncmp(p, "export ", 7) == 0) p += 7;
    char *eq = strchr(p, '=');
    if (!eq) return -1;
    char *ne = eq;
    while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t')) ne--;
    *ne = 0;
    if (ne == p) return -1;
    for (char *q = p; *q; q++)
        if (!(isalnum((unsigned char)*q) || *q == '_')) return -1;
    char *v = eq + 1;
    while (*v == ' ' || *v == '\t') v++;
    size_t vl = strlen(v);
    while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t' || v[vl - 1] == '\r')) v[--vl] = 0;
    if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
        v[vl - 1] = 0;
        v++;
    } else if (vl && (v[0] == '"' || v[0] == '\'')) {
        return -1;
    }
    *name = p;
    *value = v;
    return 0;
}

static int load_env_file(ol_config *c, const char *path, bool required, ol_err *err) {
    FILE *f = fopen(path, "r");
    if (!f) {
        if (!required && errno == ENOENT) return 0;
        return ol_err_set(err, OL_CFG_ERR, "env file %s: %s", path, strerror(errno));
    }
    char line[OL_CFG_VALUE_MAX + 256];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t l = strlen(line);
        if (l == sizeof line - 1 && line[l - 1] != '\n') {
            rc = ol_err_set(err, OL_CFG_ERR, "env file %s line %d: longer than %zu bytes", path, lineno,
                            sizeof line - 2);
            break;
        }
        if (l && line[l - 1] == '\n') line[--l] = 0;
        char *name, *value;
        if (parse_env_line(line, &name, &value) != 0) {
            rc = ol_err_set(err, OL_CFG_ERR, "env file %s line %d: expected NAME=VALUE", path, lineno);
            break;
        }
        if (!name) continue;
        long long i = find_def(c, name);
        if (i < 0) continue; /* the file is shared by every subcommand; other settings are not ours */
        char src[64];
        snprintf(src, sizeof src, ".env line %d", lineno);
        if ((rc = set_value(c, (size_t)i, value, ".env", err)) != 0) {
            /* name the line too */
            char msg[sizeof err->msg];
            ol_strlcpy(msg, err ? err->msg : "", sizeof msg);
            ol_err_set(err, OL_CFG_ERR, "%s (%s)", msg, src);
            break;
        }
    }
    fclose(f);
    return rc;
}

void ol_config_free(ol_config *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) free(c->values[i]);
    free(c->values);
    free(c->sources);
    free(c->ints);
    free(c->bools);
    free(c->rest);
    free(c);
}

int ol_config_load(const ol_cfg_def *defs, size_t n, int argc, char **argv, ol_config **out, ol_err *err) {
    *out = NULL;
    ol_config *c = calloc(1, sizeof *c);
    if (!c) return ol_err_set(err, OL_CFG_ERR, "config: out of memory");
    c->defs = defs;
    c->n = n;
    c->values = calloc(n + 1, sizeof *c->values);
    c->sources = calloc(n + 1, sizeof *c->sources);
    c->ints = calloc(n + 1, sizeof *c->ints);
    c->bools = calloc(n + 1, sizeof *c->bools);
    c->rest = calloc((size_t)(argc > 0 ? argc : 1), sizeof *c->rest);
    int rc = 0;
    if (!c->values || !c->sources || !c->ints || !c->bools || !c->rest) {
        rc = ol_err_set(err, OL_CFG_ERR, "config: out of memory");
        goto fail;
    }
    /* 1. defaults */
    for (size_t i = 0; i < n; i++)
        if (defs[i].def && (rc = set_value(c, i, defs[i].def, "default", err)) != 0) goto fail;
    /* Find --help and --env-file first: the file is read before flags override it. */
    const char *env_file = getenv("OUTLAYER_ENV_FILE");
    bool env_required = env_file != NULL;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--") == 0) break;
        if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
            *out = c;
            return OL_CFG_HELP;
        }
        if (strcmp(argv[a], "--env-file") == 0 && a + 1 < argc) env_file = argv[a + 1], env_required = true;
        else if (strncmp(argv[a], "--env-file=", 11) == 0) env_file = argv[a] + 11, env_required = true;
    }
    /* 2. environment */
    for (size_t i = 0; i < n; i++) {
        const char *v = getenv(defs[i].name);
        if (v && (rc = set_value(c, i, v, "environment", err)) != 0) goto fail;
    }
    /* 3. .env */
    if ((rc = load_env_file(c, env_file ? env_file : ".env", env_required, err)) != 0) goto fail;
    /* 4. flags */
    bool flags_done = false;
    for (int a = 1; a < argc; a++) {
        char *arg = argv[a];
        if (flags_done || strncmp(arg, "--", 2) != 0 || arg[2] == 0) {
            if (!flags_done && strcmp(arg, "--") == 0) {
                flags_done = true;
                continue;
            }
            c->rest[c->nrest++] = arg;
            continue;
        }
        char name[128];
        const char *value = NULL;
        const char *eq = strchr(arg, '=');
        size_t nl = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (nl >= sizeof name) {
            rc = ol_err_set(err, OL_CFG_ERR, "unknown flag --%.40s...", arg + 2);
            goto fail;
        }
        memcpy(name, arg + 2, nl);
        name[nl] = 0;
        if (strcmp(name, "env-file") == 0) {
            if (!eq) a++;
            continue;
        }
        long long i = -1;
        for (size_t k = 0; k < n; k++)
            if (flag_matches(name, defs[k].name)) i = (long long)k;
        if (i < 0) {
            rc = ol_err_set(err, OL_CFG_ERR, "unknown flag --%s (see --help)", name);
            goto fail;
        }
        if (eq) value = eq + 1;
        else if (defs[i].type == OL_CFG_BOOL && (a + 1 >= argc || !parse_bool(argv[a + 1], &(bool){0})))
            value = "true"; /* bare boolean flag */
        else if (a + 1 < argc) value = argv[++a];
        else {
            rc = ol_err_set(err, OL_CFG_ERR, "flag --%s needs a value (setting %s)", name, defs[i].name);
            goto fail;
        }
        if ((rc = set_value(c, (size_t)i, value, "flag", err)) != 0) goto fail;
    }
    /* Required settings: min > 0 on a string means it must be set. */
    for (size_t i = 0; i < n; i++) {
        if (defs[i].type == OL_CFG_STRING && defs[i].min > 0 && !c->values[i]) {
            rc = ol_err_set(err, OL_CFG_ERR, "setting %s is required (%s)", defs[i].name, defs[i].help);
            goto fail;
        }
    }
    *out = c;
    return 0;
fail:
    ol_config_free(c);
    return rc;
}

static long long must_find(const ol_config *c, const char *name) {
    long long i = find_def(c, name);
    if (i < 0) {
        /* A programming error: the caller asked for a setting it did not declare. */
        fprintf(stderr, "config: setting %s was not declared\n", name);
        abort();
    }
    return i;
}

const char *ol_config_str(const ol_config *c, const char *name) {
    const char *v = c->values[must_find(c, name)];
    return v ? v : "";
}
long long ol_config_int(const ol_config *c, const char *name) { return c->ints[must_find(c, name)]; }
bool ol_config_bool(const ol_config *c, const char *name) { return c->bools[must_find(c, name)]; }
bool ol_config_is_set(const ol_config *c, const char *name) { return c->values[must_find(c, name)] != NULL; }
const char *ol_config_source(const ol_config *c, const char *name) {
    const char *s = c->sources[must_find(c, name)];
    return s ? s : "unset";
}
size_t ol_config_rest(const ol_config *c, char ***out_rest) {
    *out_rest = c->rest;
    return c->nrest;
}

void ol_config_help(const ol_cfg_def *defs, size_t n, FILE *out) {
    fprintf(out, "Settings (environment < .env file < flags; --env-file PATH or OUTLAYER_ENV_FILE picks the file):\n");
    for (size_t i = 0; i < n; i++) {
        const ol_cfg_def *d = &defs[i];
        char flag[128];
        size_t k = 0;
        for (const char *p = d->name; *p && k + 1 < sizeof flag; p++)
            flag[k++] = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
        flag[k] = 0;
        const char *type = d->type == OL_CFG_INT ? "int" : d->type == OL_CFG_BOOL ? "bool" : "string";
        fprintf(out, "  %-28s --%-26s %s\n", d->name, flag, d->help);
        if (d->type == OL_CFG_INT)
            fprintf(out, "  %-28s   %s, %lld..%lld, default %s\n", "", type, d->min, d->max, d->def ? d->def : "unset");
        else
            fprintf(out, "  %-28s   %s, default %s\n", "", type,
                    (d->flags & OL_CFG_SECRET) ? (d->def ? "(secret)" : "unset") : d->def ? d->def : "unset");
    }
}
