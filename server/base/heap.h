/*
 * heap.h - keeping porticod's heap a function of its caches, not of what
 * it has been sent.
 *
 * glibc gives each thread that allocates under contention its own malloc
 * arena (up to 8 per core) and keeps freed memory in it.  A 1 MiB CSV
 * import builds tens of MiB of JSON on its worker thread; once freed it
 * stays in that thread's arena, so with many threads a few large requests
 * pin gigabytes (issue 15: 440 MiB anon RSS after 100,000 imported people
 * with a 42 MiB store).  So the heap is trimmed (free pages returned to
 * the kernel) after any request whose body was large; capping the number
 * of arenas (MALLOC_ARENA_MAX) was measured too and added little once
 * trims are made (README, "Memory").
 */
#ifndef PT_HEAP_H
#define PT_HEAP_H

#include <stddef.h>
#include <stdint.h>

/* Requests with at least this many body bytes are followed by a trim. */
#define PT_HEAP_TRIM_BODY_MIN ((size_t)64 * 1024)
/* After a request: trims the heap if body_len >= PT_HEAP_TRIM_BODY_MIN.
 * Cheap otherwise. */
void pt_heap_after_request(size_t body_len);

/* Trims since start (for /metrics and tests). */
uint64_t pt_heap_trims(void);

#endif
