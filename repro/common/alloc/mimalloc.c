/*
 * mimalloc: owns by mi_is_in_heap_region, version by mi_version, heap_mapped from
 * mi_process_info's commit. No alloc_* figures: a release build keeps no statistics (mi_stats_*
 * need MI_STAT), and mi_process_info has no per-thread figure.
 */
#include <stdio.h>

#include "registry.h"

typedef int (*mi_version_fn)(void);
typedef bool (*mi_is_in_heap_region_fn)(const void *p);
typedef void (*mi_process_info_fn)(size_t *elapsed_msecs, size_t *user_msecs, size_t *system_msecs,
                                   size_t *current_rss, size_t *peak_rss, size_t *current_commit,
                                   size_t *peak_commit, size_t *page_faults);

static mi_version_fn version_fn;
static mi_is_in_heap_region_fn in_heap_fn;
static mi_process_info_fn process_info_fn;

static bool probe(const tl_alloc_info *a) {
    (void)a;
    TL_LOOKUP(version_fn, "mi_version");
    if (version_fn != NULL) {
        TL_LOOKUP(in_heap_fn, "mi_is_in_heap_region");
        TL_LOOKUP(process_info_fn, "mi_process_info");
        return true;
    }
    /* A static mimalloc hides its API: mimalloc_exports.c re-exports it. */
    TL_LOOKUP(version_fn, "tlsleak_export_mi_version");
    if (version_fn == NULL)
        return false;
    TL_LOOKUP(in_heap_fn, "tlsleak_export_mi_is_in_heap_region");
    TL_LOOKUP(process_info_fn, "tlsleak_export_mi_process_info");
    return true;
}

static int owns(const tl_alloc_info *a, void *block) {
    (void)a;
    return in_heap_fn != NULL && in_heap_fn(block);
}

/* mi_version() as it returns it (MI_MALLOC_VERSION, 209 for 2.0.9): the harness decodes it,
 * with the table CMake reads the header by (allocators/mimalloc-version.json). */
static void version(const tl_alloc_info *a, char *buf, size_t size) {
    (void)a;
    snprintf(buf, size, "%d", version_fn());
}

static void stats(tl_heap *h) {
    if (process_info_fn == NULL)
        return;
    size_t elapsed, user, sys, rss, peak_rss, commit = 0, peak_commit, faults;
    process_info_fn(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
    h->mapped = commit;
    h->have |= TL_HEAP_MAPPED;
}

const struct allocid_entry tl_alloc_mimalloc = {"mimalloc", probe, owns, version, stats};
