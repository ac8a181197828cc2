/*
 * json_parse.h - parsing JSON that came from outside (request bodies,
 * token headers and claims).
 *
 * jansson parses recursively and allows 2048 levels; CivetWeb's worker
 * threads have small stacks, so a few KiB of '[' would crash the server
 * before jansson's own limit is reached.  Untrusted JSON goes through
 * pt_json_parse_untrusted(), which refuses deep nesting in one linear pass
 * before parsing.
 */
#ifndef PT_JSON_PARSE_H
#define PT_JSON_PARSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* No request, token or config of ours nests deeper than this. */
#define PT_JSON_MAX_DEPTH 64

/* True if no array/object in text nests deeper than max_depth. */
bool pt_json_depth_ok(const char *text, size_t len, int max_depth);

/* json_loadb with a depth check first; NULL on failure with err filled
 * (err may be NULL). */
json_t *pt_json_parse_untrusted(const char *text, size_t len, size_t flags, json_error_t *err);

#endif
