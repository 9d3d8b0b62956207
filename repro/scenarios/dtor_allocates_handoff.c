/*
 * @scenario dtor_allocates_handoff tls=pthread
 * @role scenario
 * @summary A key destructor mallocs a block and hands it to the main thread, which frees it.
 * @refs microsoft/snmalloc PR #161; microsoft/mimalloc #944; jemalloc/jemalloc test/unit/tsd.c
 *
 * As dtor_allocates, but the block the destructor mallocs (and writes) outlives the thread:
 * the destructor hands it to the main thread, which frees it after the join. The allocation
 * comes after the allocator's own thread-exit hook ran (its key is older than ours, so glibc
 * runs it first in each destructor round), so it lands in per-thread state set up again
 * during teardown: a heap or cache that must be torn down once more, with a live block in it,
 * and whose pages must then be found again when another thread frees that block. An allocator
 * that leaves the re-created heap owned by a dead thread, or abandons it in a way no other
 * thread reclaims, keeps one block's pages (or the whole heap) per thread.
 */
#include "repro.h"

static void hand_over(void *value) {
    const tl_thread *t = value;
    tl_handoff_put(t, tl_block_new((size_t)t->params->size));
}

static int setup(const tl_params *p) {
    if (tl_handoff_setup(p) != 0)
        return -1;
    return tl_key_create(hand_over);
}

static void body(tl_thread *t) {
    tl_block_use((size_t)t->params->size);
    tl_key_arm(t);
}

int main(int argc, char **argv) {
    static const tl_scenario scenario = {
        .name = TLSLEAK_SCENARIO, .setup = setup, .body = body, .after_batch = tl_handoff_free};
    return tl_run(argc, argv, &scenario);
}
