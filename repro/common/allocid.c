/*
 * Which allocator serves malloc, found at run time by symbol lookup, so one binary serves
 * every link mode (static, dynamic, LD_PRELOAD). The allocators are a registry (alloc/): each
 * entry looks its own API up, says whether it owns a block, gives its version and reads its
 * statistics; this file walks the table in order and keeps the entry that answered.
 *
 * Lookups happen once, here, at start-up: they may allocate (dlerror state) and checkpoints
 * must not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/registry.h"
#include "internal.h"

static const struct allocid_entry *found;

void tl_alloc_identify(tl_alloc_info *a, size_t probe_size) {
    memset(a, 0, sizeof *a);
    prim_libc(a->libc, sizeof a->libc);
    /* The malloc this code calls, as the loader bound it. */
    void *(*malloc_fn)(size_t) = malloc;
    tl_file_of_function((void (*)(void))malloc_fn, a->malloc_from, sizeof a->malloc_from);

    /* A program that routes its allocations to an allocator's own API says so (mimalloc_api.c):
     * then `owns` below checks the routed malloc, and malloc_from names the router. */
    const char *const *route = prim_symbol("tlsleak_alloc_route");
    if (route != NULL)
        snprintf(a->mode, sizeof a->mode, "%s", *route);
    void *block = tl_block_new(probe_size);
    /* The last entry (system) always answers. */
    size_t i = 0;
    while (i + 1 < tl_allocators_count && !tl_allocators[i]->probe(a))
        i++;
    if (i + 1 == tl_allocators_count)
        tl_allocators[i]->probe(a);
    found = tl_allocators[i];
    snprintf(a->name, sizeof a->name, "%s", found->name);
    if (found->version != NULL)
        found->version(a, a->version, sizeof a->version);
    int owns = found->owns(a, block);
    a->owns = owns != TL_OWNS_NOT;
    if (owns == TL_OWNS_FILE)
        snprintf(a->owns_by, sizeof a->owns_by, "file");
    free(block);
}

void tl_alloc_stats(tl_heap *h) {
    memset(h, 0, sizeof *h);
    if (found != NULL && found->stats != NULL)
        found->stats(h);
}
