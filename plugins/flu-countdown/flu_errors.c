/*
 * flu_errors.c - the [{pointer, message}] list behind 422 answers, built
 * by the pure validators so they need no host.
 */
#include "flu.h"

void flu_errors_add(json_t **errors, const char *pointer, const char *message)
{
    if (*errors == NULL)
        *errors = json_array();
    if (*errors == NULL)
        return;
    json_array_append_new(*errors, json_pack("{s:s, s:s}", "pointer", pointer, "message", message));
}
