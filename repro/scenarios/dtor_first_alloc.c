/*
 * @scenario dtor_first_alloc tls=pthread
 * @role scenario
 * @summary A thread's first allocation ever happens inside a key destructor at its exit.
 * @refs microsoft/snmalloc PR #161; jemalloc/jemalloc #896; jemalloc/jemalloc test/unit/tsd.c
 *
 * The thread body only arms the key; the key's destructor mallocs, writes and frees a --size
 * block. So the allocator meets the thread for the first time during its teardown: it sets up
 * its per-thread state (and, if it has one, arms its own thread-exit key) when glibc is
 * already running key destructors. With a key of its own the allocator gets one more round to
 * tear the state down; with a hook that already ran (a C++ thread_local destructor, snmalloc
 * before PR #161) or none at all for this thread, the state is never released. jemalloc #896
 * is the neighbour case: a thread that never allocated, whose per-thread state was created
 * when glibc freed its TLS after every destructor had run.
 *
 * "No allocation before" holds for glibc on Linux, and is what makes the scenario: the
 * thread's stack and descriptor, and its DTV (dynamic TLS vector), are set up by
 * pthread_create in the creating thread; pthread_setspecific allocates nothing for the first
 * 32 keys (ours is among them: the program creates one), and the driver's thread start calls
 * nothing that allocates. Were any module with TLS dlopen'ed, the first use of its TLS would
 * malloc in the thread, and pthread_exit would dlopen libgcc_s once: neither happens here.
 * Elsewhere the C runtime may allocate per thread (MinGW's emutls, the CRT's per-thread
 * data), and then the destructor's malloc is not the first.
 */
#include "repro.h"

int main(int argc, char **argv) {
    static const tl_scenario scenario = {
        .name = TLSLEAK_SCENARIO, .setup = tl_dtor_alloc_setup, .body = tl_key_arm};
    return tl_run(argc, argv, &scenario);
}
