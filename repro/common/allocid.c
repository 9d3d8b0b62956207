/*
 * Which allocator serves malloc, found at run time by symbol lookup, so one binary serves
 * every link mode (static, dynamic, LD_PRELOAD). Tried in order: mimalloc, jemalloc,
 * gperftools tcmalloc, oneTBB tbbmalloc, faulty (tlsleak's own, allocators/faulty/), then the
 * system allocator.
 *
 * The statistics readers are looked up once, here, at start-up: lookups may allocate (dlerror
 * state) and checkpoints must not.
 *
 * Attribution (the cp line's alloc_* fields, DESIGN.md section 3), where the allocator says:
 *   jemalloc   alloc_meta stats.metadata, alloc_tcache stats.arenas.<all>.tcache_bytes; no
 *              alloc_threads: stats.arenas.<i>.nthreads counts threads bound to an application
 *              arena, which a thread served from its tcache need not be (5.3.0 reports 1 with
 *              eleven threads live)
 *   tcmalloc   alloc_tcache tcmalloc.current_total_thread_cache_bytes (the free blocks cached,
 *              not the ThreadCache structs); gperftools (2.10) has no numeric property for its
 *              metadata or for the number of thread caches ("tcmalloc.metadata_bytes" and
 *              "tcmalloc.thread_cache_count" are Google tcmalloc's, which has no C API)
 *   faulty     alloc_tcache and alloc_threads from faulty_thread_stats
 *   mimalloc   nothing: a release build keeps no statistics (mi_stats_* need MI_STAT), and
 *              mi_process_info has no per-thread figure
 *   tbbmalloc  nothing: no statistics call
 *   system     nothing: glibc's mallinfo2 says nothing of its per-thread tcache or arenas in use
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Signatures as the allocators export them (C linkage). */
typedef int (*mi_version_fn)(void);
typedef bool (*mi_is_in_heap_region_fn)(const void *p);
typedef void (*mi_process_info_fn)(size_t *elapsed_msecs, size_t *user_msecs, size_t *system_msecs,
                                   size_t *current_rss, size_t *peak_rss, size_t *current_commit,
                                   size_t *peak_commit, size_t *page_faults);
typedef int (*mallctl_fn)(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
typedef const char *(*tc_version_fn)(int *major, int *minor, const char **patch);
typedef int (*tc_get_ownership_fn)(const void *p); /* 0 unknown, 1 owned, 2 not owned */
typedef int (*tc_get_numeric_property_fn)(const char *property, size_t *value);
/* With no fallback it answers 0 for a block tbbmalloc did not allocate: it checks its own
 * address ranges before it reads the block (malloc_usable_size of its proxy relies on this). */
typedef size_t (*tbb_safer_msize_fn)(void *p, size_t (*original_msize)(void *p));
typedef const char *(*faulty_version_fn)(void);
typedef int (*faulty_owns_fn)(const void *p);
typedef void (*faulty_stats_fn)(size_t *inuse, size_t *mapped);
typedef void (*faulty_thread_stats_fn)(size_t *live_caches, size_t *cache_bytes);

/* glibc's struct mallinfo2 (2.33+): ten size_t fields in this order. Every field must be here
 * for the layout, though only four are read. */
struct tl_mallinfo2 {
    // cppcheck-suppress unusedStructMember
    size_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
};
typedef struct tl_mallinfo2 (*mallinfo2_fn)(void);

enum kind { KIND_SYSTEM, KIND_MIMALLOC, KIND_JEMALLOC, KIND_TCMALLOC, KIND_TBBMALLOC, KIND_FAULTY };

/* jemalloc's MALLCTL_ARENAS_ALL (4096 since 5.0): the statistics of all arenas merged. An older
 * jemalloc refuses the name, and the figure is omitted. */
#define JE_ARENAS_ALL "stats.arenas.4096."

static struct {
    enum kind kind;
    mi_process_info_fn mi_process_info;
    mallctl_fn mallctl;
    tc_get_numeric_property_fn tc_numeric;
    faulty_stats_fn faulty_stats;
    faulty_thread_stats_fn faulty_thread_stats;
    mallinfo2_fn mallinfo2;
} found;

/* A data pointer from symbol lookup into a function pointer of the same size. */
#define LOOKUP(fnptr, name)                                                                        \
    do {                                                                                           \
        void *addr_ = prim_symbol(name);                                                           \
        _Static_assert(sizeof(fnptr) == sizeof addr_, "function and data pointers differ");        \
        memcpy(&(fnptr), &addr_, sizeof addr_);                                                    \
    } while (0)

static void file_of_function(void (*fn)(void), char *buf, size_t size) {
    void *addr;
    memcpy(&addr, &fn, sizeof addr);
    prim_symbol_file(addr, buf, size);
}

static bool try_mimalloc(tl_alloc_info *a, void *block) {
    mi_version_fn version;
    mi_is_in_heap_region_fn in_heap;
    LOOKUP(version, "mi_version");
    if (version != NULL) {
        LOOKUP(in_heap, "mi_is_in_heap_region");
        LOOKUP(found.mi_process_info, "mi_process_info");
    } else {
        /* A static mimalloc hides its API: mimalloc_exports.c re-exports it. */
        LOOKUP(version, "tlsleak_export_mi_version");
        if (version == NULL)
            return false;
        LOOKUP(in_heap, "tlsleak_export_mi_is_in_heap_region");
        LOOKUP(found.mi_process_info, "tlsleak_export_mi_process_info");
    }
    int v = version(); /* e.g. 209 for 2.0.9 */
    snprintf(a->version, sizeof a->version, "%d.%d.%d", v / 100, v % 100 / 10, v % 10);
    a->owns = in_heap != NULL && in_heap(block);
    found.kind = KIND_MIMALLOC;
    return true;
}

static bool try_jemalloc(tl_alloc_info *a, void *block) {
    LOOKUP(found.mallctl, "mallctl");
    if (found.mallctl == NULL)
        return false;
    const char *version = NULL;
    size_t len = sizeof version;
    if (found.mallctl("version", (void *)&version, &len, NULL, 0) == 0 && version != NULL) {
        /* "5.3.0-0-g54eaed1d..." -> "5.3.0" */
        snprintf(a->version, sizeof a->version, "%.*s", (int)strcspn(version, "-"), version);
    }
    /* arenas.lookup may fault on a pointer jemalloc never mapped, so ask only when malloc is
     * jemalloc's own; otherwise jemalloc is loaded but not serving malloc. */
    char mallctl_from[sizeof a->malloc_from];
    file_of_function((void (*)(void))found.mallctl, mallctl_from, sizeof mallctl_from);
    a->owns = 0;
    if (strcmp(mallctl_from, a->malloc_from) == 0) {
        unsigned arena = 0;
        size_t arena_len = sizeof arena;
        a->owns = found.mallctl("arenas.lookup", &arena, &arena_len, &block, sizeof block) == 0;
    }
    found.kind = KIND_JEMALLOC;
    return true;
}

static bool try_tcmalloc(tl_alloc_info *a, void *block) {
    tc_version_fn version;
    tc_get_ownership_fn ownership;
    LOOKUP(version, "tc_version");
    LOOKUP(ownership, "MallocExtension_GetOwnership");
    if (version == NULL && ownership == NULL)
        return false;
    if (version != NULL) {
        int major = 0, minor = 0;
        const char *patch = "";
        version(&major, &minor, &patch);
        snprintf(a->version, sizeof a->version, "%d.%d%s", major, minor,
                 patch != NULL ? patch : "");
    }
    a->owns = ownership != NULL && ownership(block) == 1;
    LOOKUP(found.tc_numeric, "MallocExtension_GetNumericProperty");
    found.kind = KIND_TCMALLOC;
    return true;
}

static bool try_tbbmalloc(tl_alloc_info *a, void *block) {
    void *api = prim_symbol("scalable_msize");
    if (api == NULL)
        return false;
    /* tbbmalloc has no run-time version call: the version stays unknown here. */
    tbb_safer_msize_fn safer_msize;
    LOOKUP(safer_msize, "__TBB_malloc_safer_msize");
    a->owns = safer_msize != NULL && safer_msize(block, NULL) != 0;
    found.kind = KIND_TBBMALLOC;
    return true;
}

static bool try_faulty(tl_alloc_info *a, void *block) {
    faulty_version_fn version;
    faulty_owns_fn owns;
    LOOKUP(version, "faulty_version");
    if (version == NULL)
        return false;
    LOOKUP(owns, "faulty_owns");
    LOOKUP(found.faulty_stats, "faulty_stats");
    LOOKUP(found.faulty_thread_stats, "faulty_thread_stats");
    snprintf(a->version, sizeof a->version, "%s", version());
    a->owns = owns != NULL && owns(block);
    found.kind = KIND_FAULTY;
    return true;
}

static void use_system(tl_alloc_info *a) {
    /* "glibc-2.36" -> "2.36" */
    const char *dash = strchr(a->libc, '-');
    snprintf(a->version, sizeof a->version, "%s", dash != NULL ? dash + 1 : "");
    /* The system allocator serves malloc when malloc lives in the C library itself, taken
     * as the file that holds fopen (which no allocator replaces). */
    char libc_file[sizeof a->malloc_from];
    FILE *(*fopen_fn)(const char *, const char *) = fopen;
    file_of_function((void (*)(void))fopen_fn, libc_file, sizeof libc_file);
    a->owns = a->malloc_from[0] != '\0' && strcmp(libc_file, a->malloc_from) == 0;
    LOOKUP(found.mallinfo2, "mallinfo2");
    found.kind = KIND_SYSTEM;
}

void tl_alloc_identify(tl_alloc_info *a, size_t probe_size) {
    memset(a, 0, sizeof *a);
    prim_libc(a->libc, sizeof a->libc);
    /* The malloc this code calls, as the loader bound it. */
    void *(*malloc_fn)(size_t) = malloc;
    file_of_function((void (*)(void))malloc_fn, a->malloc_from, sizeof a->malloc_from);

    static const struct {
        const char *name;
        bool (*try_it)(tl_alloc_info *a, void *block);
    } order[] = {{"mimalloc", try_mimalloc},
                 {"jemalloc", try_jemalloc},
                 {"tcmalloc", try_tcmalloc},
                 {"tbbmalloc", try_tbbmalloc},
                 {"faulty", try_faulty}};
    /* A program that routes its allocations to an allocator's own API says so (mimalloc_api.c):
     * then `owns` below checks the routed malloc, and malloc_from names the router. */
    const char *const *route = prim_symbol("tlsleak_alloc_route");
    if (route != NULL)
        snprintf(a->mode, sizeof a->mode, "%s", *route);
    void *block = tl_block_new(probe_size);
    size_t i = 0;
    while (i < sizeof order / sizeof order[0] && !order[i].try_it(a, block))
        i++;
    if (i < sizeof order / sizeof order[0]) {
        snprintf(a->name, sizeof a->name, "%s", order[i].name);
    } else {
        snprintf(a->name, sizeof a->name, "system");
        use_system(a);
    }
    free(block);
}

/* A jemalloc statistic into *out; `bit` if jemalloc answered, else 0. */
static unsigned je_size(const char *name, uint64_t *out, unsigned bit) {
    size_t value = 0, len = sizeof value;
    if (found.mallctl(name, &value, &len, NULL, 0) != 0 || len != sizeof value)
        return 0;
    *out = value;
    return bit;
}

void tl_alloc_stats(tl_heap *h) {
    memset(h, 0, sizeof *h);
    switch (found.kind) {
        case KIND_MIMALLOC:
            if (found.mi_process_info != NULL) {
                size_t elapsed, user, sys, rss, peak_rss, commit = 0, peak_commit, faults;
                found.mi_process_info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit,
                                      &faults);
                h->mapped = commit;
                h->have |= TL_HEAP_MAPPED;
            }
            break;
        case KIND_JEMALLOC: {
            /* Statistics are snapshots: bump the epoch to refresh them. */
            uint64_t epoch = 1;
            size_t len = sizeof epoch;
            if (found.mallctl("epoch", &epoch, &len, &epoch, sizeof epoch) != 0)
                break;
            h->have |= je_size("stats.allocated", &h->inuse, TL_HEAP_INUSE);
            h->have |= je_size("stats.mapped", &h->mapped, TL_HEAP_MAPPED);
            h->have |= je_size("stats.metadata", &h->meta, TL_HEAP_META);
            h->have |= je_size(JE_ARENAS_ALL "tcache_bytes", &h->tcache, TL_HEAP_TCACHE);
            break;
        }
        case KIND_TCMALLOC: {
            size_t value = 0;
            if (found.tc_numeric == NULL)
                break;
            if (found.tc_numeric("generic.current_allocated_bytes", &value)) {
                h->inuse = value;
                h->have |= TL_HEAP_INUSE;
            }
            if (found.tc_numeric("generic.heap_size", &value)) {
                h->mapped = value;
                h->have |= TL_HEAP_MAPPED;
            }
            if (found.tc_numeric("tcmalloc.current_total_thread_cache_bytes", &value)) {
                h->tcache = value;
                h->have |= TL_HEAP_TCACHE;
            }
            break;
        }
        case KIND_FAULTY:
            if (found.faulty_stats != NULL) {
                size_t inuse = 0, mapped = 0;
                found.faulty_stats(&inuse, &mapped);
                h->inuse = inuse;
                h->mapped = mapped;
                h->have |= TL_HEAP_INUSE | TL_HEAP_MAPPED;
            }
            if (found.faulty_thread_stats != NULL) {
                size_t caches = 0, bytes = 0;
                found.faulty_thread_stats(&caches, &bytes);
                h->threads = caches;
                h->tcache = bytes;
                h->have |= TL_HEAP_THREADS | TL_HEAP_TCACHE;
            }
            break;
        case KIND_TBBMALLOC: /* no statistics call */
            break;
        case KIND_SYSTEM:
            if (found.mallinfo2 != NULL) {
                struct tl_mallinfo2 mi = found.mallinfo2();
                h->inuse = mi.uordblks + mi.hblkhd;
                h->mapped = mi.arena + mi.hblkhd;
                h->have |= TL_HEAP_INUSE | TL_HEAP_MAPPED;
            }
            break;
    }
}
