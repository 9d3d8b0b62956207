/*
 * The allocator registry: one `struct allocid_entry` per allocator, one file each beside this
 * one, listed in probe order by table.c. allocid.c walks the table; nothing else names an
 * allocator. Adding one: a file here, a row in table.c, a CMake call in allocators/ (DESIGN.md
 * "Build manifest", "Adding an allocator").
 */
#ifndef TLSLEAK_ALLOC_REGISTRY_H
#define TLSLEAK_ALLOC_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "../internal.h"

struct allocid_entry {
    const char *name; /* as printed in `alloc name=` and as the manifest's `expect` */
    /* Looks the allocator's API up by symbol; true when it is in the process. Runs once, at
     * start-up (lookups may allocate), before this entry's other functions. The last entry's
     * always answers true. */
    bool (*probe)(const tl_alloc_info *a);
    /* TL_OWNS_BLOCK when the allocator claims `block`, a fresh malloc block; TL_OWNS_FILE when
     * it has no call that claims a block and malloc is defined in the file that defines its
     * API (rpmalloc; snmalloc before 0.6); TL_OWNS_NOT otherwise. a->malloc_from is set. */
    int (*owns)(const tl_alloc_info *a, void *block);
    /* Its version as its run-time call returns it, unchanged (mimalloc's mi_version() is
     * "209"): the harness decodes it by the allocator's family (harness/tlsleak/families/);
     * NULL when it gives none at run time. May allocate (start-up only). */
    void (*version)(const tl_alloc_info *a, char *buf, size_t size);
    /* Fills the heap_* and alloc_* figures it has, setting their TL_HEAP_* bits in h->have
     * (h arrives zeroed); NULL when it has none. Runs at checkpoints: never allocates. */
    void (*stats)(tl_heap *h);
};

enum { TL_OWNS_NOT = 0, TL_OWNS_BLOCK = 1, TL_OWNS_FILE = 2 };

/* table.c: every allocator, in probe order; the system allocator last. */
extern const struct allocid_entry *const tl_allocators[];
extern const size_t tl_allocators_count;

/* A data pointer from symbol lookup into a function pointer of the same size. */
#define TL_LOOKUP(fnptr, name)                                                                     \
    do {                                                                                           \
        void *addr_ = prim_symbol(name);                                                           \
        _Static_assert(sizeof(fnptr) == sizeof addr_, "function and data pointers differ");        \
        memcpy(&(fnptr), &addr_, sizeof addr_);                                                    \
    } while (0)

/* The file (executable or library) that holds a function. */
static inline void tl_file_of_function(void (*fn)(void), char *buf, size_t size) {
    void *addr;
    memcpy(&addr, &fn, sizeof addr);
    prim_symbol_file(addr, buf, size);
}

/* 1 when the function `fn` is defined in the file malloc comes from (a->malloc_from). */
static inline int tl_defines_malloc(const tl_alloc_info *a, void (*fn)(void)) {
    char file[sizeof a->malloc_from];
    if (fn == NULL || a->malloc_from[0] == '\0')
        return 0;
    tl_file_of_function(fn, file, sizeof file);
    return strcmp(file, a->malloc_from) == 0;
}

#endif
