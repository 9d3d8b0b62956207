/*
 * The C library's own malloc, named when no other allocator is found. version is the C
 * library's; heap_inuse and heap_mapped from glibc's mallinfo2 where it exists (2.33+). No
 * alloc_* figures: mallinfo2 says nothing of glibc's per-thread tcache or arenas in use.
 */
#include <stdio.h>

#include "registry.h"

/* glibc's struct mallinfo2: ten size_t fields in this order. Every field must be here for the
 * layout, though only four are read. */
struct tl_mallinfo2 {
    // cppcheck-suppress unusedStructMember
    size_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
};
typedef struct tl_mallinfo2 (*mallinfo2_fn)(void);

static mallinfo2_fn mallinfo2;

static bool probe(const tl_alloc_info *a) {
    (void)a;
    TL_LOOKUP(mallinfo2, "mallinfo2");
    return true;
}

/* The system allocator serves malloc when malloc lives in the C library itself, taken as the
 * file that holds fopen (which no allocator replaces). */
static int owns(const tl_alloc_info *a, void *block) {
    (void)block;
    char libc_file[sizeof a->malloc_from];
    FILE *(*fopen_fn)(const char *, const char *) = fopen;
    tl_file_of_function((void (*)(void))fopen_fn, libc_file, sizeof libc_file);
    return a->malloc_from[0] != '\0' && strcmp(libc_file, a->malloc_from) == 0;
}

/* "glibc-2.36" -> "2.36" */
static void version(const tl_alloc_info *a, char *buf, size_t size) {
    const char *dash = strchr(a->libc, '-');
    snprintf(buf, size, "%s", dash != NULL ? dash + 1 : "");
}

static void stats(tl_heap *h) {
    if (mallinfo2 == NULL)
        return;
    struct tl_mallinfo2 mi = mallinfo2();
    h->inuse = mi.uordblks + mi.hblkhd;
    h->mapped = mi.arena + mi.hblkhd;
    h->have |= TL_HEAP_INUSE | TL_HEAP_MAPPED;
}

const struct allocid_entry tl_alloc_system = {"system", probe, owns, version, stats};
