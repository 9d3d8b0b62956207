/*
 * @scenario control_leak tls=none
 * @role control-leak
 * @summary Thread churn where each thread mallocs --size bytes and never frees them.
 * @refs none
 *
 * Positive control: a known leak of exactly --size bytes per thread. The block is written
 * (so its pages are resident) and escaped (so the compiler keeps the malloc). Every allocator
 * must show growth of about --size bytes per thread here, in rss and in the allocator's own
 * heap_inuse; if it does not, the measurement cannot see a leak of that size at all.
 * Expect it to be slow under mimalloc 2.0.9 (about 15 s for 20000 threads, quadratic): every
 * leaked block keeps its exited thread's segment abandoned, and each new thread scans them all.
 */
#include "repro.h"

static void body(tl_thread *t) {
    (void)tl_block_new((size_t)t->params->size); /* leaked on purpose */
}

int main(int argc, char **argv) {
    static const tl_scenario scenario = {.name = TLSLEAK_SCENARIO, .body = body};
    return tl_run(argc, argv, &scenario);
}
