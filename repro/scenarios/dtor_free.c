/*
 * @scenario tss_dtor_free tls=c11
 * @scenario pthread_key_dtor_free tls=pthread
 * @role scenario
 * @summary A thread-exit key destructor frees a block the thread malloc'd.
 * @refs jemalloc/jemalloc #2351; jemalloc/jemalloc #896; glibc bug 22111
 *
 * Each thread mallocs --size bytes and stores the block under a key (C11 tss_create or
 * pthread_key_create, chosen by the build); the key's destructor frees it at thread exit.
 * The free runs during thread teardown, in an order relative to the allocator's own
 * thread-exit hook that nobody controls: if the allocator has already torn down the thread's
 * cache or heap, the free re-creates per-thread state that is never released again, or the
 * block goes to a heap that is never reclaimed (the shape of microsoft/snmalloc PR #161 too).
 * Either way memory grows per thread.
 */
#include "repro.h"

int main(int argc, char **argv) {
    static const tl_scenario scenario = {
        .name = TLSLEAK_SCENARIO, .setup = tl_keyblock_setup, .body = tl_keyblock_body};
    return tl_run(argc, argv, &scenario);
}
