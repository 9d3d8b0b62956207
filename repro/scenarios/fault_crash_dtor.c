/*
 * @scenario fault_crash_dtor tls=pthread
 * @role fault
 * @summary A thread-exit key destructor writes through a null pointer once half of --threads have
 * exited.
 * @refs none
 *
 * For testing the harness, not allocators: the process dies by a signal part-way through the
 * churn, after some checkpoints and without an end line. A real fault rather than
 * raise(SIGSEGV): SIGSEGV on POSIX either way, but on Windows raise() only exits with status 3,
 * while a fault is an unhandled access violation (0xC0000005), the path Wine's debugger takes.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "repro.h"

static atomic_ullong exited;
static int *volatile nowhere; /* NULL, unknown to the optimiser: a fault, not a trap */
static unsigned long long crash_at;

static void crash_dtor(void *block) {
    free(block);
    if (atomic_fetch_add(&exited, 1) + 1 >= crash_at)
        *nowhere = 1;
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
