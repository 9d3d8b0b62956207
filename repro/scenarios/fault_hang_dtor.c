/*
 * @scenario fault_hang_dtor tls=pthread
 * @role fault
 * @summary A thread-exit key destructor blocks forever once half of --threads have exited.
 * @refs none
 *
 * For testing the harness, not allocators: the join never returns, so the process stops
 * printing checkpoints but stays alive until it is killed (the harness's timeout).
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "repro.h"

static atomic_ullong exited;
static unsigned long long hang_at;

static void hang_dtor(void *block) {
    free(block);
    if (atomic_fetch_add(&exited, 1) + 1 >= hang_at)
        tl_block_forever();
}

static int setup(const tl_params *p) {
    hang_at = p->threads / 2 > 0 ? p->threads / 2 : 1;
    return tl_key_create(hang_dtor);
}

int main(int argc, char **argv) {
    static const tl_scenario scenario = {
        .name = TLSLEAK_SCENARIO, .setup = setup, .body = tl_keyblock_body};
    return tl_run(argc, argv, &scenario);
}
