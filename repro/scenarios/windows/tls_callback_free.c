/*
 * @scenario tls_callback_free tls=tlscb
 * @platform windows
 * @role scenario
 * @summary A TLS callback (.CRT$XLB, GCC section attribute) frees the thread's block at
 * DLL_THREAD_DETACH.
 * @refs zackees/mimalloc-pprof #47; microsoft/mimalloc #1377; microsoft/mimalloc #944
 *
 * Each thread mallocs --size bytes and keeps them in a Win32 TLS slot (TlsAlloc); a TLS
 * callback placed in the executable's .CRT$XLB section (the image's TLS directory, which the
 * loader walks at every thread attach and detach) frees the block when the thread detaches.
 * Allocators hook thread exit the same way (mimalloc under MSVC registers its TLS callbacks
 * with pragmas that GCC ignores: zackees/mimalloc-pprof #47); whichever callback runs first
 * decides whether this free meets a live thread heap.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <stdlib.h>

#include "repro.h"

static DWORD slot = TLS_OUT_OF_INDEXES;
static size_t block_size;

static void NTAPI on_thread_event(PVOID module, DWORD reason, PVOID reserved) {
    (void)module;
    (void)reserved;
    if (reason != DLL_THREAD_DETACH || slot == TLS_OUT_OF_INDEXES)
        return;
    void *block = TlsGetValue(slot);
    if (block != NULL) {
        TlsSetValue(slot, NULL);
        free(block);
    }
}

/* The CRT's TLS directory spans .CRT$XLA .. .CRT$XLZ; `used` keeps the pointer through -O2. */
__attribute__((used, section(".CRT$XLB"))) static const PIMAGE_TLS_CALLBACK tls_callback =
    on_thread_event;

static int setup(const tl_params *p) {
    block_size = (size_t)p->size;
    slot = TlsAlloc();
    return slot == TLS_OUT_OF_INDEXES ? -1 : 0;
}

static void body(tl_thread *t) {
    (void)t;
    if (!TlsSetValue(slot, tl_block_new(block_size)))
        tl_fatal("TlsSetValue failed");
}

int main(int argc, char **argv) {
    static const tl_scenario s = {.name = TLSLEAK_SCENARIO, .setup = setup, .body = body};
    return tl_run(argc, argv, &s);
}
