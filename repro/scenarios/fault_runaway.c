/*
 * @scenario fault_runaway tls=none
 * @role fault
 * @summary Each thread leaks 2 MiB, whatever --size says: memory grows until something stops it.
 * @refs none
 *
 * For testing the harness's memory guard, not allocators: at the default 20000 threads this
 * would need 40 GiB, more than the machine has. Run it only under a memory limit.
 */
#include "repro.h"

#define RUNAWAY_BYTES ((size_t)2 << 20)

static void body(tl_thread *t) {
    (void)t;
    (void)tl_block_new(RUNAWAY_BYTES); /* leaked on purpose */
}

int main(int argc, char **argv) {
    static const tl_scenario scenario = {.name = TLSLEAK_SCENARIO, .body = body};
    return tl_run(argc, argv, &scenario);
}
