/*
 * @scenario fault_crash_dtor tls=pthread
 * @role fault
 * @summary A thread-exit key destructor raises SIGSEGV once half of --threads have exited.
 * @refs none
 *
 * For testing the harness, not allocators: the process dies by a signal part-way through the
 * churn, after some checkpoints and without an end line.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "tlsleak.h"

static atomic_ullong exited;
static unsigned long long crash_at;

static void crash_dtor(void *block) {
    free(block);
    if (atomic_fetch_add(&exited, 1) + 1 >= crash_at)
        raise(SIGSEGV);
}

static int setup(const tl_params *p) {
    crash_at = p->threads / 2 > 0 ? p->threads / 2 : 1;
    return tl_key_create(crash_dtor);
}

int main(int argc, char **argv) {
    static const tl_scenario scenario = {
        .name = TLSLEAK_SCENARIO, .setup = setup, .body = tl_keyblock_body};
    return tl_run(argc, argv, &scenario);
}
