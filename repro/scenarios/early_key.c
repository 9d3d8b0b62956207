/*
 * @scenario early_key tls=pthread
 * @role scenario
 * @summary dtor_free with the key created before the allocator initialises (before main).
 * @refs microsoft/mimalloc #944; jemalloc/jemalloc #2825; jemalloc/jemalloc #2351
 *
 * The mirror of pthread_key_dtor_free: the same block held under the key and freed by its
 * destructor, but the key is created before any allocator sets itself up, so its destructor is
 * registered before the allocator's own thread-exit hook. Where destructors run in order of
 * registration (glibc runs pthread keys by index, lowest first, in each round) it now runs
 * first, while the allocator's thread state is intact; where they run in reverse order (C++
 * thread_local destructors, the atexit-like lists of some runtimes) it runs last, after the
 * allocator let go of the thread, which is the order of mimalloc #944 and jemalloc #2825. A
 * difference between this scenario and pthread_key_dtor_free under one allocator means the
 * allocator depends on which destructor was registered first.
 *
 * "Before the allocator" needs code earlier than main: a constructor of priority 101 (GCC's
 * highest for users) runs before a statically linked allocator's constructor, but only after
 * every shared library's initialisers, where a linked or preloaded allocator creates its key.
 * On ELF the key is therefore created from the executable's .preinit_array, which runs before
 * any library initialiser; elsewhere from a constructor(101) (prim.h, PRIM_EARLY_INIT).
 */
#include "../prim/prim.h"
#include "repro.h"

static int early_rc = -1;

PRIM_EARLY_INIT(create_key_early) {
    early_rc = tl_keyblock_setup(NULL);
}

static int setup(const tl_params *p) {
    (void)p;
    return early_rc;
}

int main(int argc, char **argv) {
    static const tl_scenario scenario = {
        .name = TLSLEAK_SCENARIO, .setup = setup, .body = tl_keyblock_body};
    return tl_run(argc, argv, &scenario);
}
