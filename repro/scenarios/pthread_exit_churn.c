/*
 * @scenario pthread_exit_churn tls=pthread
 * @role scenario
 * @summary pthread_key_dtor_free where each thread ends by pthread_exit, not by returning.
 * @refs jemalloc/jemalloc #2351; jemalloc/jemalloc #896; glibc bug 22111
 *
 * The thread mallocs a --size block, holds it under the key, and ends by calling pthread_exit
 * (_endthreadex on Windows) from inside its function; the key's destructor frees the block.
 * pthread_exit unwinds the thread's stack (glibc does it with a forced unwind, loading
 * libgcc_s on first use) and then runs the same teardown as a return: key destructors in
 * rounds, then glibc's own freeing of the thread's cache. It is the ending jemalloc #2351
 * describes ("pthread_exit has been reached but libc is still deallocating memory"). An
 * allocator or runtime that hooks the end of the thread function rather than the thread's
 * exit (e.g. cleanup placed after the start routine returns) misses it and leaks per thread.
 */
#include "repro.h"

static void body(tl_thread *t) {
    tl_keyblock_body(t);
    tl_thread_exit();
}

int main(int argc, char **argv) {
    static const tl_scenario scenario = {
        .name = TLSLEAK_SCENARIO, .setup = tl_keyblock_setup, .body = body};
    return tl_run(argc, argv, &scenario);
}
