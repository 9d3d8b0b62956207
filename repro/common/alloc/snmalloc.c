/*
 * snmalloc (microsoft/snmalloc), through its malloc shim (libsnmallocshim.so, or the static
 * shim built without a name prefix): found by __malloc_end_pointer, which the shims export.
 * From 0.6 it is a true ownership check: the end of the object holding a pointer, 0 for
 * memory snmalloc does not manage (static data, the stack, another malloc's blocks). Before 0.6
 * it answers for any pointer, so there it only tells that the file defining malloc is the one
 * defining __malloc_end_pointer (`owns_by=file`). Which of the two is known by asking about a
 * static variable of this file: only an older snmalloc claims it. No run-time version call and
 * no statistics in the shims.
 */
#include "registry.h"

typedef void *(*sn_end_pointer_fn)(void *p);

static sn_end_pointer_fn end_pointer_fn;
static char never_allocated;

static bool probe(const tl_alloc_info *a) {
    (void)a;
    TL_LOOKUP(end_pointer_fn, "__malloc_end_pointer");
    return end_pointer_fn != NULL;
}

static int owns(const tl_alloc_info *a, void *block) {
    if (!tl_defines_malloc(a, (void (*)(void))end_pointer_fn))
        return TL_OWNS_NOT;
    if (end_pointer_fn(&never_allocated) != NULL)
        return TL_OWNS_FILE; /* < 0.6: claims anything */
    return (char *)end_pointer_fn(block) > (char *)block ? TL_OWNS_BLOCK : TL_OWNS_NOT;
}

const struct allocid_entry tl_alloc_snmalloc = {"snmalloc", probe, owns, NULL, NULL};
