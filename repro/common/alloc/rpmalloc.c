/*
 * rpmalloc (mjansson/rpmalloc), built with its malloc override (ENABLE_OVERRIDE): found by
 * rpmalloc_initialize. rpmalloc has no call that says whether a block is its own (its
 * rpmalloc_usable_size reads any pointer as one of its spans), so the check is by file only:
 * malloc is defined in the file that defines rpmalloc_initialize (`owns_by=file`). No run-time
 * version call (the build records the version); no statistics read (its global statistics are
 * filled only in ENABLE_STATISTICS builds, and their layout changed between releases).
 */
#include "registry.h"

typedef int (*rp_initialize_fn)(void);

static rp_initialize_fn initialize_fn;

static bool probe(const tl_alloc_info *a) {
    (void)a;
    TL_LOOKUP(initialize_fn, "rpmalloc_initialize");
    return initialize_fn != NULL;
}

static int owns(const tl_alloc_info *a, void *block) {
    (void)block;
    return tl_defines_malloc(a, (void (*)(void))initialize_fn) ? TL_OWNS_FILE : TL_OWNS_NOT;
}

const struct allocid_entry tl_alloc_rpmalloc = {"rpmalloc", probe, owns, NULL, NULL};
