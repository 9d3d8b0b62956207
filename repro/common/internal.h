/*
 * Pieces of the common driver that scenarios do not call directly.
 */
#ifndef TLSLEAK_INTERNAL_H
#define TLSLEAK_INTERNAL_H

#include "../prim/prim.h"
#include "repro.h"

/* args.c: DESIGN.md "Repro command line". */
enum { TL_ARGS_OK = 0, TL_ARGS_HELP = 1, TL_ARGS_BAD = 2 };
int tl_args_parse(int argc, char **argv, tl_params *p, char *err, size_t err_size);
extern const char tl_usage[];

/* allocid.c: which allocator serves malloc, found at run time. */
typedef struct tl_alloc_info {
    char name[16];    /* an allocid_entry name (alloc/table.c) */
    char version[64]; /* "" when unknown */
    int owns;         /* 1 when the allocator claims a fresh malloc block */
    /* "file" when the allocator has no call that can claim a block, and owns says only that
     * malloc is defined in the file that defines its API; "" for a block-level check. */
    char owns_by[8];
    char malloc_from[4096];
    char libc[64];
    char mode[8]; /* "api" when the program routes its allocations to the allocator's own
                     functions rather than malloc (mimalloc_api.c); "" otherwise */
} tl_alloc_info;

enum {
    TL_HEAP_INUSE = 1u << 0,
    TL_HEAP_MAPPED = 1u << 1,
    TL_HEAP_META = 1u << 2,
    TL_HEAP_TCACHE = 1u << 3,
    TL_HEAP_THREADS = 1u << 4
};
typedef struct tl_heap {
    unsigned have; /* TL_HEAP_* bits */
    uint64_t inuse;
    uint64_t mapped;
    /* Attribution (DESIGN.md "Checkpoint line format", alloc_*), where the allocator exposes it. */
    uint64_t meta;    /* bytes of allocator metadata */
    uint64_t tcache;  /* bytes held in per-thread caches */
    uint64_t threads; /* per-thread heaps or caches alive */
} tl_heap;

void tl_alloc_identify(tl_alloc_info *a, size_t probe_size); /* once, at start-up */
void tl_alloc_stats(tl_heap *h);                             /* never allocates */

/* report.c: TLSLEAK/1 lines (DESIGN.md "Checkpoint line format"), each written whole and flushed.
 */
void tl_report_start(const char *scenario, const char *tls, const char *thread_api,
                     const tl_params *p);
void tl_report_alloc(const tl_alloc_info *a);
void tl_report_cp(uint64_t done, uint64_t t_ns, const prim_mem *m, const tl_heap *h);
void tl_report_end(uint64_t done, const char *status);

/* churn.c: create up to `concurrency` threads (one per slot, running body(&threads[slot])),
 * wait for them all to end, repeat; checkpoint(done) after every `interval` ended threads and
 * after the last. Returns 0, or -1 when a thread could not be created or joined; *done is the
 * number that ended. */
extern const tl_spawner tl_prim_spawner;
int tl_churn(const tl_params *p, const tl_scenario *s, const tl_spawner *sp, tl_thread *threads,
             void (*checkpoint)(uint64_t done), uint64_t *done);

/* pool.c: the same with `concurrency` threads reused for `threads` work items (tl_scenario.pool).
 * tl_pool_init at set-up, before the first checkpoint. */
int tl_pool_init(void);
int tl_pool(const tl_params *p, const tl_scenario *s, const tl_spawner *sp, tl_thread *threads,
            void (*checkpoint)(uint64_t done), uint64_t *done);

#endif
