/*
 * @scenario detached_threads tls=pthread
 * @role scenario
 * @summary pthread_key_dtor_free with detached threads: nobody joins them.
 * @refs gperftools/gperftools #1020; microsoft/mimalloc #1107; glibc bug 22111
 *
 * The thread body and destructor of pthread_key_dtor_free (a --size block held under the key,
 * freed by its destructor), but every thread is created detached: it gives back its own stack
 * and descriptor as it ends, and the main thread never joins it. Short-lived threads that a
 * library starts and forgets (gperftools #1020) are usually detached. The main thread waits
 * for each thread's semaphore, posted when its function returns, and then until the OS no
 * longer lists the thread, so at most --concurrency threads are alive at once and every
 * checkpoint sees the OS thread count back at its baseline. With no join, the exiting thread
 * itself runs all of its teardown (key destructors, the allocator's hook, glibc freeing its
 * thread cache and putting its stack in the cache) with nobody waiting: any of it that an
 * allocator defers to the joining thread, or that races with the next thread's creation, shows
 * here and not in the joined scenarios.
 */
#include "repro.h"

int main(int argc, char **argv) {
    static const tl_scenario scenario = {.name = TLSLEAK_SCENARIO,
                                         .setup = tl_keyblock_setup,
                                         .body = tl_keyblock_body,
                                         .spawner = &tl_detached_spawner};
    return tl_run(argc, argv, &scenario);
}
