/*
 * check.h - the assertion macros every unit test uses.
 *
 * A failed CHECK prints where and what, counts the failure and carries on,
 * so one run reports every broken case; main() ends with
 * `return check_finish("test_x");`, which turns the count into the exit
 * status ctest reads.
 */
#ifndef PT_TEST_CHECK_H
#define PT_TEST_CHECK_H

#include "base/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Failures so far; a test's own helpers may count into it too. */
static int failures;

/* Prints "file:line: FAILED: <message>" (with the thread's last pt_error
 * detail, when there is one, since it usually says why) and counts it. */
__attribute__((format(printf, 3, 4))) static inline void check_fail(const char *file, int line,
                                                                    const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: FAILED: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    const char *last = pt_error_last();
    if (last && *last)
        fprintf(stderr, " (last error: %s)", last);
    fputc('\n', stderr);
    failures++;
}

/* CHECK(cond): the condition's text is the message. */
#define CHECK(cond) CHECK_MSG(cond, "%s", #cond)

/* CHECK_MSG(cond, fmt, ...): a printf-style message instead. */
#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond))                                                                               \
            check_fail(__FILE__, __LINE__, __VA_ARGS__);                                           \
    } while (0)

/* Removes a test's temporary directory tree; 0 on success.  The tests
 * make their directories with mkdtemp under /tmp, so the name needs no
 * quoting beyond the single quotes. */
static inline int check_rm_tree(const char *dir)
{
    char cmd[600];
    if (snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir) >= (int)sizeof cmd)
        return -1;
    return system(cmd) == 0 ? 0 : -1;
}

/* The exit status of the test program: 0 if nothing failed. */
static inline int check_finish(const char *name)
{
    if (failures) {
        fprintf(stderr, "%s: %d failure(s)\n", name, failures);
        return 1;
    }
    printf("%s: ok\n", name);
    return 0;
}

#endif
