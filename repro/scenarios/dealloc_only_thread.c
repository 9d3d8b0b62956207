/*
 * @scenario dealloc_only_thread tls=pthread
 * @role scenario
 * @summary A thread that never allocates frees 200 blocks from a key destructor's last round.
 * @refs jemalloc/jemalloc #2351; jemalloc/jemalloc #896
 *
 * jemalloc #2351 as its reporter reproduced it: before starting each thread the main thread
 * mallocs (and writes) 200 blocks of --size bytes for it; the thread itself never calls the
 * allocator, it only arms the key. At thread exit the key's destructor sets the key again in
 * every round and, in the last of glibc's PTHREAD_DESTRUCTOR_ITERATIONS (4) rounds, frees the
 * 200 blocks. jemalloc keeps a thread that only deallocates in a minimal state without a
 * thread cache, but since PR #2349 (after 5.3.0) promotes it to a full one once it has
 * deallocated enough (128 frees, in the report): the promotion arms jemalloc's key, glibc has
 * no round left to call it, and the thread cache (with the blocks cached in it) leaks. Any
 * allocator that sets up per-thread state on a free has the same exposure, since nothing can tear
 * it down after the last round. Blocks larger than 1 MiB / 200 are fewer, so a thread frees at most
 * about 1 MiB (at least one block): 200 at 16 B and 1 KiB, 16 at 64 KiB, 1 at 4 MiB. After each
 * batch the main thread checks that every destructor reached its last round.
 */
#include <stdlib.h>

#include "repro.h"

#define MAX_BLOCKS 200
#define BUDGET ((size_t)1 << 20)

static size_t per_thread; /* blocks each thread frees */
static size_t block_size;
static void **blocks; /* per_thread per slot; NULL once freed */

static void free_in_last_round(void *value) {
    tl_thread *t = value;
    if (tl_key_rearm(t))
        return;
    void **mine = &blocks[t->slot * per_thread];
    for (size_t i = 0; i < per_thread; i++) {
        free(mine[i]);
        mine[i] = NULL;
    }
}

static int setup(const tl_params *p) {
    block_size = (size_t)p->size;
    per_thread = BUDGET / block_size;
    per_thread = per_thread < 1 ? 1 : per_thread > MAX_BLOCKS ? MAX_BLOCKS : per_thread;
    blocks = calloc((size_t)p->concurrency * per_thread, sizeof *blocks);
    if (blocks == NULL)
        return -1;
    return tl_key_create(free_in_last_round);
}

static void before_batch(size_t n) {
    for (size_t i = 0; i < n * per_thread; i++)
        blocks[i] = tl_block_new(block_size);
}

static void after_batch(size_t n) {
    for (size_t i = 0; i < n * per_thread; i++) {
        if (blocks[i] != NULL)
            tl_fatal("a thread ended without freeing its blocks in the last destructor round");
    }
}

int main(int argc, char **argv) {
    static const tl_scenario scenario = {.name = TLSLEAK_SCENARIO,
                                         .setup = setup,
                                         .body = tl_key_arm,
                                         .before_batch = before_batch,
                                         .after_batch = after_batch};
    return tl_run(argc, argv, &scenario);
}
