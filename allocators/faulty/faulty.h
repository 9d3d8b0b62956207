/*
 * The faulty allocator's own API. The malloc family it defines is the C library's (stdlib.h,
 * malloc.h); these are what tlsleak's allocator identification (repro/common/allocid.c) looks up.
 */
#ifndef FAULTY_H
#define FAULTY_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when p is a live block of this allocator, 0 otherwise (safe for any pointer). */
int faulty_owns(const void *p);

/* "1.0.0" */
const char *faulty_version(void);

/* Bytes the program holds (usable size of its live blocks), and bytes committed from the OS. */
void faulty_stats(size_t *inuse, size_t *mapped);

/* Thread caches made and not yet given back to the arena, and the bytes they hold (each cache's
 * own block and the free blocks cached in it). A cache counts until its memory is back in the
 * arena: one that is never torn down (recreate, skip_free_only) or whose teardown loses it
 * (drop) stays counted. Relaxed reads of two counters: no lock, no allocation. */
void faulty_thread_stats(size_t *live_caches, size_t *cache_bytes);

#ifdef __cplusplus
}
#endif

#endif
