/*
 * @scenario thread_pool tls=pthread
 * @role control-flat
 * @summary Negative control: --concurrency reused threads do --threads items, each via the key.
 * @refs gperftools/gperftools src/tests/thread_dealloc_unittest.cc; glibc bug 22111
 *
 * Second negative control, the counterpart of the churn scenarios with no thread churn: a fixed
 * pool of --concurrency threads, started after the first checkpoint and joined before the
 * last, does --threads work items. Each item frees the block the previous item held under the
 * key, then mallocs and writes a --size block and holds it under the key, so every item
 * allocates and frees through thread-local state as pthread_key_dtor_free's threads do (and a
 * worker never holds two blocks), and the key's destructor frees the last block when a worker
 * ends. Only --concurrency threads ever exit, so
 * memory must stay flat per item under every allocator: growth here is not a thread-exit
 * leak, and makes the churn scenarios' results meaningless (as for control_flat). Checkpoints
 * count items, not threads.
 */
#include "repro.h"

int main(int argc, char **argv) {
    static const tl_scenario scenario = {
        .name = TLSLEAK_SCENARIO, .setup = tl_keyblock_setup, .body = tl_keyblock_body, .pool = 1};
    return tl_run(argc, argv, &scenario);
}
