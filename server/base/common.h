/*
 * common.h - error codes, the per-thread error detail, and small helpers
 * shared by every subsystem of porticod.
 *
 * Convention (after libgit2): functions return 0 or a negative pt_error;
 * out-params come first; a human-readable detail for the last failure on
 * this thread is set aside with pt_error_set() and read with
 * pt_error_last().  Internal names are prefixed pt_; the public portlet
 * interface in include/portico/ uses portico_.
 */
#ifndef PT_COMMON_H
#define PT_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pt_error {
    PT_OK = 0,
    PT_ERR = -1,       /* unspecified failure; detail in pt_error_last() */
    PT_ENOTFOUND = -2, /* no such key / record */
    PT_EEXISTS = -3,   /* already exists */
    PT_EINVAL = -4,    /* bad argument or malformed input */
    PT_ENOMEM = -5,
    PT_EIO = -6,       /* storage or system I/O failure */
    PT_ECONFLICT = -7, /* state does not allow the operation */
    PT_EDENIED = -8,   /* not allowed */
    PT_ETOOBIG = -9,   /* input over a configured limit */
    PT_ESTOP = -10,    /* a scan callback asked to stop early (not a failure) */
    /* -11 is PORTICO_EBADREQUEST in the portlet interface: not reused */
    PT_EBUSY = -12, /* a bounded resource stayed full: try again shortly (503) */
};

/* Sets the detail for the last error on this thread (printf-style). */
void pt_error_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The detail of the last error on this thread, never NULL. */
const char *pt_error_last(void);
void pt_error_clear(void);

/* Copies src into dst (size n), always NUL-terminated; returns -1 if cut. */
int pt_strlcpy(char *dst, const char *src, size_t n);

/* Identifier rules used for org ids, usernames, portlet ids, site ids:
 * 1..64 chars of [a-z0-9._-], starting with [a-z0-9]. Usernames also allow
 * '@' so that e-mail style usernames work. */
bool pt_slug_valid(const char *s);
bool pt_username_valid(const char *s);

/* Percent-decodes src[0..len) into dst (room for len + 1 bytes); with
 * plus_is_space, '+' decodes to ' ' (form/query style).  Returns -1 on a
 * truncated or non-hex escape or a NUL byte (raw or %00), else 0. */
int pt_url_decode(char *dst, const char *src, size_t len, bool plus_is_space);

#define PT_ID_MAX       64
#define PT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
