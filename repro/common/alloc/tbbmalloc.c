/*
 * oneTBB's tbbmalloc: found by scalable_msize, owns by __TBB_malloc_safer_msize. No run-time
 * version call (the version is omitted from the alloc line) and no statistics call.
 */
#include "registry.h"

/* With no fallback it answers 0 for a block tbbmalloc did not allocate: it checks its own
 * address ranges before it reads the block (malloc_usable_size of its proxy relies on this). */
typedef size_t (*tbb_safer_msize_fn)(void *p, size_t (*original_msize)(void *p));

static tbb_safer_msize_fn safer_msize_fn;

static bool probe(const tl_alloc_info *a) {
    (void)a;
    if (prim_symbol("scalable_msize") == NULL)
        return false;
    TL_LOOKUP(safer_msize_fn, "__TBB_malloc_safer_msize");
    return true;
}

static int owns(const tl_alloc_info *a, void *block) {
    (void)a;
    return safer_msize_fn != NULL && safer_msize_fn(block, NULL) != 0;
}

const struct allocid_entry tl_alloc_tbbmalloc = {"tbbmalloc", probe, owns, NULL, NULL};
