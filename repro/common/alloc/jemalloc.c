/*
 * jemalloc: everything through mallctl. heap_inuse stats.allocated, heap_mapped stats.mapped,
 * alloc_meta stats.metadata, alloc_tcache stats.arenas.<all>.tcache_bytes. No alloc_threads:
 * stats.arenas.<i>.nthreads counts threads bound to an application arena, which a thread served
 * from its tcache need not be (5.3.0 reports 1 with eleven threads live).
 */
#include <stdint.h>
#include <stdio.h>

#include "registry.h"

typedef int (*mallctl_fn)(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);

/* jemalloc's MALLCTL_ARENAS_ALL (4096 since 5.0): the statistics of all arenas merged. An older
 * jemalloc refuses the name, and the figure is omitted. */
#define JE_ARENAS_ALL "stats.arenas.4096."

static mallctl_fn mallctl;

static bool probe(const tl_alloc_info *a) {
    (void)a;
    TL_LOOKUP(mallctl, "mallctl");
    return mallctl != NULL;
}

/* arenas.lookup may fault on a pointer jemalloc never mapped, so ask only when malloc is
 * jemalloc's own; otherwise jemalloc is loaded but not serving malloc. */
static int owns(const tl_alloc_info *a, void *block) {
    char mallctl_from[sizeof a->malloc_from];
    tl_file_of_function((void (*)(void))mallctl, mallctl_from, sizeof mallctl_from);
    if (strcmp(mallctl_from, a->malloc_from) != 0)
        return 0;
    unsigned arena = 0;
    size_t arena_len = sizeof arena;
    return mallctl("arenas.lookup", &arena, &arena_len, &block, sizeof block) == 0;
}

/* mallctl("version") as it returns it: "5.3.0-0-g54eaed1d..." (the git describe jemalloc was
 * configured with). */
static void version(const tl_alloc_info *a, char *buf, size_t size) {
    (void)a;
    const char *v = NULL;
    size_t len = sizeof v;
    if (mallctl("version", (void *)&v, &len, NULL, 0) == 0 && v != NULL)
        snprintf(buf, size, "%s", v);
}

/* A jemalloc statistic into *out; `bit` if jemalloc answered, else 0. */
static unsigned je_size(const char *name, uint64_t *out, unsigned bit) {
    size_t value = 0, len = sizeof value;
    if (mallctl(name, &value, &len, NULL, 0) != 0 || len != sizeof value)
        return 0;
    *out = value;
    return bit;
}

static void stats(tl_heap *h) {
    /* Statistics are snapshots: bump the epoch to refresh them. */
    uint64_t epoch = 1;
    size_t len = sizeof epoch;
    if (mallctl("epoch", &epoch, &len, &epoch, sizeof epoch) != 0)
        return;
    h->have |= je_size("stats.allocated", &h->inuse, TL_HEAP_INUSE);
    h->have |= je_size("stats.mapped", &h->mapped, TL_HEAP_MAPPED);
    h->have |= je_size("stats.metadata", &h->meta, TL_HEAP_META);
    h->have |= je_size(JE_ARENAS_ALL "tcache_bytes", &h->tcache, TL_HEAP_TCACHE);
}

const struct allocid_entry tl_alloc_jemalloc = {"jemalloc", probe, owns, version, stats};
