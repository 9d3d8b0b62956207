/*
 * @scenario last_round_alloc tls=pthread
 * @role scenario
 * @summary A key destructor re-arms itself until the last destructor round, then mallocs/frees.
 * @refs jemalloc/jemalloc #2351; microsoft/snmalloc PR #161; microsoft/mimalloc #944
 *
 * Each thread mallocs, writes and frees a --size block, then arms the key. At thread exit the
 * key's destructor sets the key again in every round, so glibc runs it in each of its
 * PTHREAD_DESTRUCTOR_ITERATIONS (4) rounds, and in the last one it mallocs, writes and frees a
 * --size block. The allocator's own key destructor ran in the first round (its key is older
 * than ours) and let go of the thread; the malloc in the last round sets the thread up again
 * and arms the allocator's key, but there is no round left: glibc drops the values still set
 * after the last round without calling their destructors. Whatever the allocator re-created
 * (a thread heap, a thread cache and the blocks cached in it) is then never torn down. An
 * allocator that notices it is allocating during teardown (jemalloc's "reincarnated" state,
 * no thread cache) or that frees its thread state outside pthread keys (glibc's malloc, from
 * __libc_thread_freeres after all rounds) stays flat. On Windows, FLS has one round.
 */
#include "repro.h"

static void last_round(void *value) {
    tl_thread *t = value;
    if (tl_key_rearm(t))
        return;
    tl_block_use((size_t)t->params->size);
}

static int setup(const tl_params *p) {
    (void)p;
    return tl_key_create(last_round);
}

static void body(tl_thread *t) {
    tl_block_use((size_t)t->params->size);
    tl_key_arm(t);
}

int main(int argc, char **argv) {
    static const tl_scenario scenario = {.name = TLSLEAK_SCENARIO, .setup = setup, .body = body};
    return tl_run(argc, argv, &scenario);
}
