/*
 * heap.c - trims after large requests (see heap.h).
 */
#include "base/heap.h"

#include <malloc.h>
#include <stdatomic.h>

static atomic_uint_fast64_t g_trims;

/*
 * malloc_trim(0) walks every arena and gives back whole free pages,
 * including those in the middle of a heap (madvise), which is what a
 * large request leaves behind: its JSON is freed but the arena keeps the
 * pages.  It costs a few milliseconds per large request, which is noise
 * next to parsing and writing that request.
 */
void pt_heap_after_request(size_t body_len)
{
    if (body_len < PT_HEAP_TRIM_BODY_MIN)
        return;
    malloc_trim(0);
    atomic_fetch_add(&g_trims, 1);
}

uint64_t pt_heap_trims(void)
{
    return atomic_load(&g_trims);
}
