/*
 * @scenario fls_callback_free tls=fls
 * @platform windows
 * @role scenario
 * @summary An FLS callback (FlsAlloc) frees a block the thread malloc'd, at thread exit.
 * @refs microsoft/mimalloc #869; microsoft/mimalloc #944; microsoft/mimalloc #1107
 *
 * Each thread mallocs --size bytes and stores them in a fiber-local slot created with
 * FlsAlloc and a callback; Windows runs the callback when the thread ends, and it frees the
 * block. mimalloc detects thread exit with an FLS callback of its own (mimalloc #869): if its
 * callback runs first and tears the thread heap down, this free arrives on a dead heap and
 * re-creates it, or is deferred to a heap nobody collects, and commit grows per thread.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <stdlib.h>

#include "repro.h"

static DWORD slot;
static size_t block_size;

static void NTAPI free_block(void *value) {
    free(value);
}

static int setup(const tl_params *p) {
    block_size = (size_t)p->size;
    slot = FlsAlloc(free_block);
    return slot == FLS_OUT_OF_INDEXES ? -1 : 0;
}

static void body(tl_thread *t) {
    (void)t;
    if (!FlsSetValue(slot, tl_block_new(block_size)))
        tl_fatal("FlsSetValue failed");
}

int main(int argc, char **argv) {
    static const tl_scenario s = {.name = TLSLEAK_SCENARIO, .setup = setup, .body = body};
    return tl_run(argc, argv, &s);
}
