/* Typed field access over jansson for request bodies: each getter checks presence, type and range and
 * fills an error that names the field, so handlers turn bad input into a 400 with one line. */
#include "base/base.h"

#include <jansson.h>
#include <string.h>

int ol_json_parse_object(const char *buf, size_t len, json_t **out, ol_err *err) {
    *out = NULL;
    if (len == 0) return ol_err_set(err, OL_JSON_ERR, "request body is empty; expected a JSON object");
    json_error_t je;
    json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!v) return ol_err_set(err, OL_JSON_ERR, "malformed JSON at line %d column %d: %.120s", je.line, je.column, je.text);
    if (!json_is_object(v)) {
        json_decref(v);
        return ol_err_set(err, OL_JSON_ERR, "expected a JSON object");
    }
    *out = v;
    return 0;
}

int ol_json_str(const json_t *obj, const char *key, bool required, size_t max_len, const char **out, ol_err *err) {
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required) return ol_err_set(err, OL_JSON_ERR, "field \"%s\" is required", key);
        return 0;
    }
    if (!json_is_string(v)) return ol_err_set(err, OL_JSON_ERR, "field \"%s\" must be a string", key);
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (strlen(s) != n) return ol_err_set(err, OL_JSON_ERR, "field \"%s\" contains a NUL character", key);
    if (n > max_len) return ol_err_set(err, OL_JSON_ERR, "field \"%s\" is longer than %zu bytes", key, max_len);
    *out = s;
    return 0;
}

int ol_json_int(const json_t *obj, const char *key, bool required, long long min, long long max, long long *out,
                ol_err *err) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required) return ol_err_set(err, OL_JSON_ERR, "field \"%s\" is required", key);
        return 0; /* *out keeps the caller's default */
    }
    if (!json_is_integer(v)) return ol_err_set(err, OL_JSON_ERR, "field \"%s\" must be an integer", key);
    long long x = (long long)json_integer_value(v);
    if (x < min || x > max)
        return ol_err_set(err, OL_JSON_ERR, "field \"%s\" must be within %lld..%lld", key, min, max);
    *out = x;
    return 0;
}

int ol_json_bool(const json_t *obj, const char *key, bool required, bool *out, ol_err *err) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required) return ol_err_set(err, OL_JSON_ERR, "field \"%s\" is required", key);
        return 0;
    }
    if (!json_is_boolean(v)) return ol_err_set(err, OL_JSON_ERR, "field \"%s\" must be true or false", key);
    *out = json_is_true(v);
    return 0;
}
