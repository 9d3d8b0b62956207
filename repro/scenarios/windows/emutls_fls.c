/*
 * @scenario emutls_fls tls=emutls
 * @platform windows
 * @role scenario
 * @summary MinGW emulated TLS: a __thread variable read inside an FLS callback, which frees its
 * block.
 * @refs msys2/MINGW-packages #7096; zackees/mimalloc-pprof #47; microsoft/mimalloc #869
 *
 * Each thread mallocs --size bytes into a __thread variable, which GCC for MinGW compiles to
 * emulated TLS (libgcc's emutls: a per-thread array malloc'd at first use and freed by its own
 * thread-exit hook), and arms an FLS slot whose callback reads the variable and frees the
 * block. If emutls has already freed the thread's array when the FLS callback runs, the read
 * re-creates it (a fresh malloc nobody frees, and a NULL block: the --size block is lost too);
 * msys2/MINGW-packages #7096 is this ordering for thread_local destructors.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <stdlib.h>

#include "repro.h"

static __thread void *held; /* emutls under MinGW GCC */
static DWORD slot;
static size_t block_size;

static void NTAPI free_held(void *value) {
    (void)value; /* only a marker: the block is in the __thread variable */
    free(held);
    held = NULL;
}

static int setup(const tl_params *p) {
    block_size = (size_t)p->size;
    slot = FlsAlloc(free_held);
    return slot == FLS_OUT_OF_INDEXES ? -1 : 0;
}

static void body(tl_thread *t) {
    held = tl_block_new(block_size);
    if (!FlsSetValue(slot, t))
        tl_fatal("FlsSetValue failed");
}

int main(int argc, char **argv) {
    static const tl_scenario s = {.name = TLSLEAK_SCENARIO, .setup = setup, .body = body};
    return tl_run(argc, argv, &s);
}
