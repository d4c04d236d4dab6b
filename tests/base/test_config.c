/* Settings table: precedence (default < environment < .env < flags), validation messages that name
 * the setting and its source, --help, positional arguments. */
#include "base/base.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

static const ol_cfg_def defs[] = {
    {"PORT", OL_CFG_INT, 0, 65535, "8080", "listen port", 0},
    {"HOST", OL_CFG_STRING, 1, 64, "127.0.0.1", "listen address", 0},
    {"REQUIRE_AUTH", OL_CFG_BOOL, 0, 0, "true", "require worker tokens", 0},
    {"ADMIN_TOKEN", OL_CFG_STRING, 0, 128, NULL, "admin token", OL_CFG_SECRET},
};
#define N (sizeof defs / sizeof defs[0])

static char envfile[64];

static void write_env(const char *text) {
    FILE *f = fopen(envfile, "w");
    ASSERT_TRUE(f);
    fputs(text, f);
    fclose(f);
}

static int load(int argc, const char **argv, ol_config **c, ol_err *err) {
    return ol_config_load(defs, N, argc, (char **)argv, c, err);
}

int main(void) {
    snprintf(envfile, sizeof envfile, "/tmp/ol_cfg_test_%d.env", (int)getpid());
    setenv("OUTLAYER_ENV_FILE", envfile, 1);
    unsetenv("PORT");
    unsetenv("HOST");
    write_env("");
    ol_err err;
    ol_config *c;
    const char *a0[] = {"prog", NULL};
    ASSERT_EQ(load(1, a0, &c, &err), 0);
    ASSERT_EQ(ol_config_int(c, "PORT"), 8080);
    ASSERT_STREQ(ol_config_source(c, "PORT"), "default");
    ASSERT_TRUE(ol_config_bool(c, "REQUIRE_AUTH"));
    ASSERT_TRUE(!ol_config_is_set(c, "ADMIN_TOKEN"));
    ol_config_free(c);

    /* environment < .env < flag */
    setenv("PORT", "9000", 1);
    ASSERT_EQ(load(1, a0, &c, &err), 0);
    ASSERT_EQ(ol_config_int(c, "PORT"), 9000);
    ol_config_free(c);
    write_env("# comment\n\nexport PORT = 9100\nHOST=\"10.0.0.1\"\nOTHER_MODULE_SETTING=x\n");
    ASSERT_EQ(load(1, a0, &c, &err), 0);
    ASSERT_EQ(ol_config_int(c, "PORT"), 9100);
    ASSERT_STREQ(ol_config_str(c, "HOST"), "10.0.0.1");
    ASSERT_STREQ(ol_config_source(c, "PORT"), ".env");
    ol_config_free(c);
    const char *a1[] = {"prog", "token", "--port", "9200", "--require-auth=false", "create", NULL};
    ASSERT_EQ(load(6, a1, &c, &err), 0);
    ASSERT_EQ(ol_config_int(c, "PORT"), 9200);
    ASSERT_TRUE(!ol_config_bool(c, "REQUIRE_AUTH"));
    char **rest;
    ASSERT_EQ(ol_config_rest(c, &rest), 2);
    ASSERT_STREQ(rest[0], "token");
    ASSERT_STREQ(rest[1], "create");
    ol_config_free(c);

    /* bare boolean flag */
    const char *a2[] = {"prog", "--require-auth", NULL};
    ASSERT_EQ(load(2, a2, &c, &err), 0);
    ASSERT_TRUE(ol_config_bool(c, "REQUIRE_AUTH"));
    ol_config_free(c);

    /* errors name the setting and the source */
    const char *a3[] = {"prog", "--port", "70000", NULL};
    ASSERT_EQ(load(3, a3, &c, &err), OL_CFG_ERR);
    ASSERT_CONTAINS(err.msg, "PORT");
    ASSERT_CONTAINS(err.msg, "flag");
    ASSERT_CONTAINS(err.msg, "0..65535");
    setenv("PORT", "12ab", 1);
    ASSERT_EQ(load(1, a0, &c, &err), OL_CFG_ERR);
    ASSERT_CONTAINS(err.msg, "PORT (from environment)");
    ASSERT_CONTAINS(err.msg, "not an integer");
    unsetenv("PORT");
    write_env("REQUIRE_AUTH=maybe\n");
    ASSERT_EQ(load(1, a0, &c, &err), OL_CFG_ERR);
    ASSERT_CONTAINS(err.msg, "REQUIRE_AUTH");
    ASSERT_CONTAINS(err.msg, ".env line 1");
    write_env("PORT=1\nthis line is wrong\n");
    ASSERT_EQ(load(1, a0, &c, &err), OL_CFG_ERR);
    ASSERT_CONTAINS(err.msg, "line 2");
    write_env("HOST=\n");
    ASSERT_EQ(load(1, a0, &c, &err), OL_CFG_ERR);
    ASSERT_CONTAINS(err.msg, "HOST");
    write_env("");
    const char *a4[] = {"prog", "--no-such-flag", "1", NULL};
    ASSERT_EQ(load(3, a4, &c, &err), OL_CFG_ERR);
    ASSERT_CONTAINS(err.msg, "unknown flag --no-such-flag");
    const char *a5[] = {"prog", "--port", NULL};
    ASSERT_EQ(load(2, a5, &c, &err), OL_CFG_ERR);
    ASSERT_CONTAINS(err.msg, "needs a value");
    /* an explicitly named env file must exist */
    setenv("OUTLAYER_ENV_FILE", "/nonexistent/ol.env", 1);
    ASSERT_EQ(load(1, a0, &c, &err), OL_CFG_ERR);
    ASSERT_CONTAINS(err.msg, "/nonexistent/ol.env");
    setenv("OUTLAYER_ENV_FILE", envfile, 1);

    /* --help */
    const char *a6[] = {"prog", "--help", NULL};
    ASSERT_EQ(load(2, a6, &c, &err), OL_CFG_HELP);
    ol_config_free(c);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    ol_config_help(defs, N, m);
    fclose(m);
    ASSERT_CONTAINS(buf, "--require-auth");
    ASSERT_CONTAINS(buf, "0..65535, default 8080");
    free(buf);
    unlink(envfile);
    printf("ok\n");
    return 0;
}
