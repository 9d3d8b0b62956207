/*
 * @scenario cross_thread_free tls=none
 * @role scenario
 * @summary Each thread mallocs a block and ends; the main thread frees it after the join.
 * @refs microsoft/mimalloc #1001; microsoft/mimalloc #1107
 *
 * Each thread mallocs and writes a --size block and hands it to the main thread, which frees
 * it after the join: nothing is registered for thread exit, but the thread ends with a live
 * block in its heap. The allocator's thread-exit hook must give that heap's pages to someone
 * (mimalloc abandons the segment for another thread to reclaim; jemalloc and tcmalloc own
 * blocks by arena or span, not by thread), and the free that comes later from another thread
 * must reach them. If the abandoned pages are only reclaimed by a thread that allocates in
 * them, or only collected on some later event, memory grows with the threads that ended, as
 * in the private-bytes growth of mimalloc #1001 under thread churn, or the commit exhausted by
 * short-lived allocating threads of mimalloc #1107.
 */
#include "repro.h"

static void body(tl_thread *t) {
    tl_handoff_put(t, tl_block_new((size_t)t->params->size));
}

int main(int argc, char **argv) {
    static const tl_scenario scenario = {.name = TLSLEAK_SCENARIO,
                                         .setup = tl_handoff_setup,
                                         .body = body,
                                         .after_batch = tl_handoff_free};
    return tl_run(argc, argv, &scenario);
}
