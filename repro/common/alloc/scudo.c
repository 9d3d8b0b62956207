/*
 * LLVM's scudo (standalone, compiler-rt/lib/scudo/standalone): found by __scudo_print_stats,
 * which only scudo exports; owns by malloc_iterate (Bionic's interface, which scudo implements):
 * with the allocator disabled, the chunks in use around the block are listed, and the block is
 * scudo's when one of them starts at it. No run-time version call.
 *
 * No statistics: scudo's own mallinfo2 (uordblks allocated, hblkhd mapped) never returns once a
 * thread whose first allocation happened in a pthread key destructor has exited (LLVM 14.0.6,
 * measured: the dtor_first_alloc scenario's main thread spins in it at its first checkpoint,
 * gdb), so reading it would turn that cell into a hang of tlsleak's making. Probed before
 * `system`, whose mallinfo2 lookup would otherwise call scudo's as the C library's.
 */
#include <stdint.h>

#include "registry.h"

typedef int (*scudo_iterate_fn)(uintptr_t base, size_t size,
                                void (*callback)(uintptr_t base, size_t size, void *arg),
                                void *arg);
typedef void (*scudo_toggle_fn)(void);

static scudo_iterate_fn iterate_fn;
static scudo_toggle_fn disable_fn, enable_fn;

static bool probe(const tl_alloc_info *a) {
    (void)a;
    if (prim_symbol("__scudo_print_stats") == NULL)
        return false;
    TL_LOOKUP(iterate_fn, "malloc_iterate");
    TL_LOOKUP(disable_fn, "malloc_disable");
    TL_LOOKUP(enable_fn, "malloc_enable");
    return true;
}

#define TL_SCUDO_WINDOW ((uintptr_t)65536)

struct scudo_find {
    uintptr_t block;
    int found;
};

/* Called with scudo's locks held: must not allocate. */
static void found_chunk(uintptr_t base, size_t size, void *arg) {
    struct scudo_find *f = arg;
    (void)size;
    if (base == f->block)
        f->found = 1;
}

/* scudo's malloc_iterate walks only scudo's own regions, so a block from another malloc cannot
 * fault it: it is simply not listed (a true ownership check, whichever file malloc is from). */
static int owns(const tl_alloc_info *a, void *block) {
    (void)a;
    if (iterate_fn == NULL || disable_fn == NULL || enable_fn == NULL)
        return 0;
    struct scudo_find f = {(uintptr_t)block, 0};
    /* The range is of scudo's blocks, not chunks: a large (secondary) block starts with its
     * header a page before the chunk, so look from a little before the block. */
    uintptr_t from = f.block > TL_SCUDO_WINDOW ? f.block - TL_SCUDO_WINDOW : 0;
    disable_fn();
    iterate_fn(from, 2 * TL_SCUDO_WINDOW, found_chunk, &f);
    enable_fn();
    return f.found;
}

const struct allocid_entry tl_alloc_scudo = {"scudo", probe, owns, NULL, NULL};
