/* Depth-bounded parsing of untrusted JSON: deep nesting is refused before
 * jansson recurses; strings containing brackets do not count. */
#include "check.h"
#include "http/json_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *repeat(const char *unit, size_t n, const char *tail)
{
    size_t ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(ul * n + tl + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * ul, unit, ul);
    memcpy(s + ul * n, tail, tl + 1);
    return s;
}

int main(void)
{
    /* 64 levels parse, 65 do not */
    char *ok = repeat("[", 64, "");
    char *ok_full = malloc(129);
    memcpy(ok_full, ok, 64);
    memset(ok_full + 64, ']', 64);
    ok_full[128] = 0;
    json_t *j = pt_json_parse_untrusted(ok_full, 128, 0, NULL);
    CHECK(j != NULL);
    json_decref(j);

    char *deep = repeat("[", 100000, "");
    json_error_t err;
    CHECK(pt_json_parse_untrusted(deep, strlen(deep), 0, &err) == NULL);
    CHECK(strstr(err.text, "nested") != NULL);
    CHECK(!pt_json_depth_ok("[[[", 3, 2));

    /* brackets inside strings, with escaped quotes, are not nesting */
    const char *s = "{\"a\":\"[[[[[[[[[[\\\"[[[[[[[[[[\"}";
    CHECK(pt_json_depth_ok(s, strlen(s), 1));
    j = pt_json_parse_untrusted(s, strlen(s), 0, NULL);
    CHECK(j != NULL);
    json_decref(j);

    free(ok);
    free(ok_full);
    free(deep);
    return check_finish("test_json_parse");
}
