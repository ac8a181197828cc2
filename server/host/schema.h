/*
 * schema.h - the JSON Schema subset porticod validates portlet configs
 * (and anything a portlet asks host->schema_validate about) against.
 *
 * Supported keywords: type (name or array of names), enum, const,
 * required, properties, additionalProperties (bool or schema),
 * minProperties/maxProperties, minimum/maximum, exclusiveMinimum/
 * exclusiveMaximum (numbers), multipleOf, minLength/maxLength (code
 * points), pattern (POSIX extended regex, unanchored), format ("date",
 * "date-time"; other formats are annotations), items (one schema),
 * minItems/maxItems, uniqueItems, allOf/anyOf/oneOf/not.  Annotations
 * (title, description, default, examples, $schema, $id, $comment) are
 * ignored.  Keywords that would change validation but are not supported
 * ($ref, patternProperties, if/then/else, ...) make the schema invalid,
 * so a portlet never silently gets less checking than it asked for.
 */
#ifndef PT_SCHEMA_H
#define PT_SCHEMA_H

#include "base/common.h"

#include <jansson.h>

typedef struct pt_schema pt_schema;

/* Checks a schema and compiles its patterns once.  PT_EINVAL (detail in
 * pt_error_last()) when the schema is malformed or uses an unsupported
 * keyword.  The schema is deep-copied. */
int pt_schema_compile(pt_schema **out, const json_t *schema);
void pt_schema_free(pt_schema *s);
/* The schema as compiled (borrowed). */
const json_t *pt_schema_json(const pt_schema *s);

/*
 * Validates value and appends {pointer, message} to errors (an array) for
 * every violation; pointers are RFC 6901 and start with `base` ("" or
 * "/config").  Returns true if the value is valid.  Thread-safe.
 */
bool pt_schema_validate(const pt_schema *s, const json_t *value, const char *base, json_t *errors);

/*
 * One-shot form for host->schema_validate: compiles (with a small cache
 * keyed by the schema object, so a portlet's static schemas compile once)
 * and validates.  Returns 0 with *errors NULL when valid, PT_EINVAL with
 * *errors set when not, or PT_ERR (errors NULL) when the schema is bad.
 */
int pt_schema_check(const json_t *schema, const json_t *value, json_t **errors);
/*
 * Fills in what the schema's "default"s say for members obj lacks: for
 * each property of an object schema with a "default", a copy of it; for a
 * missing property whose own schema is an object with defaults, a new
 * object filled the same way; present objects are filled recursively.
 * Returns how many values were added.  The schema is trusted (compiled).
 */
size_t pt_schema_fill_defaults(const pt_schema *s, json_t *obj);

/* Drops the cache (at shutdown). */
void pt_schema_cache_clear(void);

/* Appends "/" + the RFC 6901 escape of token (~ -> ~0, / -> ~1) to a
 * pointer; returns a new malloc'd string. */
char *pt_json_pointer_join(const char *base, const char *token);

#endif
