/*
 * faulty, tlsleak's own allocator (allocators/faulty/): it exports what identification needs.
 * heap_inuse and heap_mapped from faulty_stats, alloc_tcache and alloc_threads from
 * faulty_thread_stats (caches made and not yet back in its arena, and the blocks in them).
 */
#include <stdio.h>

#include "registry.h"

typedef const char *(*faulty_version_fn)(void);
typedef int (*faulty_owns_fn)(const void *p);
typedef void (*faulty_stats_fn)(size_t *inuse, size_t *mapped);
typedef void (*faulty_thread_stats_fn)(size_t *live_caches, size_t *cache_bytes);

static faulty_version_fn version_fn;
static faulty_owns_fn owns_fn;
static faulty_stats_fn stats_fn;
static faulty_thread_stats_fn thread_stats_fn;

static bool probe(const tl_alloc_info *a) {
    (void)a;
    TL_LOOKUP(version_fn, "faulty_version");
    if (version_fn == NULL)
        return false;
    TL_LOOKUP(owns_fn, "faulty_owns");
    TL_LOOKUP(stats_fn, "faulty_stats");
    TL_LOOKUP(thread_stats_fn, "faulty_thread_stats");
    return true;
}

static int owns(const tl_alloc_info *a, void *block) {
    (void)a;
    return owns_fn != NULL && owns_fn(block);
}

static void version(const tl_alloc_info *a, char *buf, size_t size) {
    (void)a;
    snprintf(buf, size, "%s", version_fn());
}

static void stats(tl_heap *h) {
    if (stats_fn != NULL) {
        size_t inuse = 0, mapped = 0;
        stats_fn(&inuse, &mapped);
        h->inuse = inuse;
        h->mapped = mapped;
        h->have |= TL_HEAP_INUSE | TL_HEAP_MAPPED;
    }
    if (thread_stats_fn != NULL) {
        size_t caches = 0, bytes = 0;
        thread_stats_fn(&caches, &bytes);
        h->threads = caches;
        h->tcache = bytes;
        h->have |= TL_HEAP_THREADS | TL_HEAP_TCACHE;
    }
}

const struct allocid_entry tl_alloc_faulty = {"faulty", probe, owns, version, stats};
