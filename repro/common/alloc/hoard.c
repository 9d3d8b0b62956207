/*
 * Hoard (emeryberger/Hoard), built on Heap-Layers' malloc wrappers: found by xxmalloc, which
 * those wrappers call. owns: malloc is defined in the file that defines xxmalloc, and Hoard's
 * xxmalloc_usable_size gives the block a size. The file is compared first: the size call
 * crashes on some pointers Hoard did not allocate (3.13, master), and answers 0 for others
 * (3.11). No run-time version call (3.13 prints one on stderr at start, not an API); no
 * statistics.
 */
#include "registry.h"

typedef void *(*hoard_malloc_fn)(size_t size);
typedef size_t (*hoard_usable_size_fn)(void *p);

static hoard_malloc_fn xxmalloc_fn;
static hoard_usable_size_fn usable_size_fn;

static bool probe(const tl_alloc_info *a) {
    (void)a;
    TL_LOOKUP(xxmalloc_fn, "xxmalloc");
    TL_LOOKUP(usable_size_fn, "xxmalloc_usable_size");
    return xxmalloc_fn != NULL;
}

static int owns(const tl_alloc_info *a, void *block) {
    if (usable_size_fn == NULL || !tl_defines_malloc(a, (void (*)(void))xxmalloc_fn))
        return TL_OWNS_NOT;
    return usable_size_fn(block) > 0 ? TL_OWNS_BLOCK : TL_OWNS_NOT;
}

const struct allocid_entry tl_alloc_hoard = {"hoard", probe, owns, NULL, NULL};
