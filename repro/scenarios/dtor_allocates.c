/*
 * @scenario dtor_allocates tls=pthread
 * @role scenario
 * @summary A key destructor mallocs, writes and frees a block, after the thread used malloc.
 * @refs microsoft/snmalloc PR #161; microsoft/mimalloc #944; jemalloc/jemalloc test/unit/tsd.c
 *
 * Each thread mallocs, writes and frees a --size block (so the allocator sets up its state for
 * the thread), then arms the key; at thread exit the key's destructor mallocs a --size block,
 * writes every byte and frees it. The destructor's key is created in set-up, after the
 * driver's first malloc, so an allocator that tears a thread down from a key of its own
 * (mimalloc, jemalloc, tcmalloc on POSIX) created that key first, and glibc runs it first in
 * the first destructor round: the malloc comes after the allocator let go of the thread. It
 * must set the thread up again and arm its key for one more round; an allocator that cannot
 * (a hook that runs only once, before pthread keys: a C++ thread_local destructor, as in
 * snmalloc before PR #161; or mimalloc's thread-exit hook on Windows, mimalloc #944) leaks the
 * re-created per-thread state, heap or cache, in every thread. glibc's own malloc frees its
 * thread cache after all key destructors (__libc_thread_freeres), so `system` is the baseline.
 * jemalloc's test/unit/tsd.c allocates in a thread-exit callback for the same reason (it
 * checks state transitions, not memory). See dtor_allocates_handoff for a block that outlives
 * the thread, last_round_alloc for an allocation with no round left after it.
 */
#include "repro.h"

static void body(tl_thread *t) {
    tl_block_use((size_t)t->params->size);
    tl_key_arm(t);
}

int main(int argc, char **argv) {
    static const tl_scenario scenario = {
        .name = TLSLEAK_SCENARIO, .setup = tl_dtor_alloc_setup, .body = body};
    return tl_run(argc, argv, &scenario);
}
