/*
 * Linked into programs with a static mimalloc, and on Windows into every program of a
 * mimalloc variant (beside mimalloc_api.c). The static library keeps the mi_* API hidden
 * (-fvisibility=hidden without MI_SHARED_LIB), so even with -rdynamic a run-time lookup
 * cannot see it. These exported wrappers let allocid.c find the statically linked allocator
 * the same way it finds a shared one, without changing how mimalloc is built; PRIM_EXPORT
 * because a Windows executable lists only what is marked.
 */
#include <stdbool.h>
#include <stddef.h>

#include "../prim/prim.h"

/* Declared here rather than from mimalloc.h: stable since mimalloc 1.x. */
int mi_version(void);
bool mi_is_in_heap_region(const void *p);
void mi_process_info(size_t *elapsed_msecs, size_t *user_msecs, size_t *system_msecs,
                     size_t *current_rss, size_t *peak_rss, size_t *current_commit,
                     size_t *peak_commit, size_t *page_faults);

PRIM_EXPORT int tlsleak_export_mi_version(void);
PRIM_EXPORT bool tlsleak_export_mi_is_in_heap_region(const void *p);
PRIM_EXPORT void tlsleak_export_mi_process_info(size_t *elapsed_msecs, size_t *user_msecs,
                                                size_t *system_msecs, size_t *current_rss,
                                                size_t *peak_rss, size_t *current_commit,
                                                size_t *peak_commit, size_t *page_faults);

int tlsleak_export_mi_version(void) {
    return mi_version();
}

bool tlsleak_export_mi_is_in_heap_region(const void *p) {
    return mi_is_in_heap_region(p);
}

void tlsleak_export_mi_process_info(size_t *elapsed_msecs, size_t *user_msecs, size_t *system_msecs,
                                    size_t *current_rss, size_t *peak_rss, size_t *current_commit,
                                    size_t *peak_commit, size_t *page_faults) {
    mi_process_info(elapsed_msecs, user_msecs, system_msecs, current_rss, peak_rss, current_commit,
                    peak_commit, page_faults);
}
