/*
 * @scenario control_flat tls=none
 * @role control-flat
 * @summary Thread churn where each thread mallocs and frees a block in its body; no TLS.
 * @refs glibc bug 22111; daanx/mimalloc-bench mleak
 *
 * Negative control. Each thread mallocs --size bytes, writes them and frees them before it
 * returns; nothing is registered for thread exit. Whatever per-thread state the allocator sets
 * up (thread cache, thread heap) must be reclaimed or reused by its own exit hook, so memory
 * must stay flat after the first few threads. Growth here is an allocator or harness problem,
 * not a TLS-destructor one, and makes the other scenarios' results meaningless.
 */
#include "repro.h"

static void body(tl_thread *t) {
    tl_block_use((size_t)t->params->size);
}

int main(int argc, char **argv) {
    static const tl_scenario scenario = {.name = TLSLEAK_SCENARIO, .body = body};
    return tl_run(argc, argv, &scenario);
}
