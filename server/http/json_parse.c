/*
 * json_parse.c - depth-bounded parsing of untrusted JSON (see json_parse.h).
 */
#include "http/json_parse.h"

#include <stdio.h>
#include <string.h>

/*
 * Counts bracket depth outside string literals.  Malformed input is not
 * judged here (jansson does that); this pass only guarantees the parser
 * cannot recurse deeper than max_depth.
 */
bool pt_json_depth_ok(const char *text, size_t len, int max_depth)
{
    int depth = 0;
    bool in_string = false, escaped = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return false;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return true;
}

json_t *pt_json_parse_untrusted(const char *text, size_t len, size_t flags, json_error_t *err)
{
    if (!pt_json_depth_ok(text, len, PT_JSON_MAX_DEPTH)) {
        if (err) {
            memset(err, 0, sizeof(*err));
            snprintf(err->text, sizeof(err->text), "nested deeper than %d levels",
                     PT_JSON_MAX_DEPTH);
        }
        return NULL;
    }
    return json_loadb(text, len, flags, err);
}
