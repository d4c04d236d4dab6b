/* Account ids (../shared/reference/near-protocol.md §2.6, near-account-id-rs validation rules):
 * 2..64 bytes of [a-z0-9-_.], no separator at either end or next to another separator. */
#include "near/near.h"

#include <string.h>

static bool is_sep(char c) { return c == '-' || c == '_' || c == '.'; }
static bool is_alnum_lower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static bool is_lower_hex(char c) { return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9'); }

int near_account_id_check(const char *s, size_t len, ol_err *err) {
    if (!s) return ol_err_set(err, NEAR_EINVAL, "account id: missing");
    if (len < NEAR_ACCOUNT_ID_MIN)
        return ol_err_set(err, NEAR_EINVAL, "account id: too short (%zu bytes, minimum %d)", len, NEAR_ACCOUNT_ID_MIN);
    if (len > NEAR_ACCOUNT_ID_MAX)
        return ol_err_set(err, NEAR_EINVAL, "account id: too long (%zu bytes, maximum %d)", len, NEAR_ACCOUNT_ID_MAX);
    bool prev_sep = true; /* a separator at position 0 is redundant */
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (is_sep(c)) {
            if (prev_sep) {
                return ol_err_set(err, NEAR_EINVAL,
                                  i == 0 ? "account id: starts with separator '%c' (position %zu)"
                                         : "account id: redundant separator '%c' at position %zu",
                                  c, i);
            }
            prev_sep = true;
        } else if (is_alnum_lower(c)) {
            prev_sep = false;
        } else {
            unsigned char u = (unsigned char)c;
            if (u >= 0x21 && u < 0x7f)
                return ol_err_set(err, NEAR_EINVAL, "account id: invalid character '%c' at position %zu%s", c, i,
                                  (c >= 'A' && c <= 'Z') ? " (must be lowercase)" : "");
            return ol_err_set(err, NEAR_EINVAL, "account id: invalid byte 0x%02x at position %zu", u, i);
        }
    }
    if (prev_sep) return ol_err_set(err, NEAR_EINVAL, "account id: ends with separator '%c'", s[len - 1]);
    return 0;
}

bool near_account_id_valid(const char *s) { return s && near_account_id_check(s, strlen(s), NULL) == 0; }

static bool all_lower_hex(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!is_lower_hex(s[i])) return false;
    return true;
}

near_account_kind near_account_id_kind(const char *s, size_t len) {
    if (len == 64 && all_lower_hex(s, 64)) return NEAR_ACCOUNT_NEAR_IMPLICIT;
    if (len == 42 && s[0] == '0' && s[1] == 'x' && all_lower_hex(s + 2, 40)) return NEAR_ACCOUNT_ETH_IMPLICIT;
    if (len == 42 && s[0] == '0' && s[1] == 's' && all_lower_hex(s + 2, 40)) return NEAR_ACCOUNT_DETERMINISTIC;
    return NEAR_ACCOUNT_NAMED;
}

bool near_account_id_is_top_level(const char *s, size_t len) { return memchr(s, '.', len) == NULL; }

bool near_account_id_is_sub_account_of(const char *sub, const char *parent) {
    size_t ls = strlen(sub), lp = strlen(parent);
    if (ls <= lp + 1) return false;
    if (strcmp(sub + ls - lp, parent) != 0 || sub[ls - lp - 1] != '.') return false;
    return memchr(sub, '.', ls - lp - 1) == NULL;
}
