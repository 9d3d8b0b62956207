/*
 * @scenario dll_thread_local tls=cxx
 * @scenario dll_detach_free tls=dllmain
 * @platform windows
 * @role scenario
 * @summary A LoadLibrary'd DLL's thread-exit hook frees each thread's block; FreeLibrary every
 * --interval threads.
 * @refs jemalloc/jemalloc #2825; microsoft/mimalloc #1377; msys2/MINGW-packages #7096
 *
 * The main thread loads a DLL named after the scenario (repro/modules/windows/) with
 * LoadLibrary, lets --interval threads use it, and releases it with FreeLibrary before the
 * checkpoint. Each thread mallocs --size bytes inside the DLL and holds them in the DLL's
 * thread-local state, freed at the thread's exit by the DLL itself:
 *   dll_thread_local  a C++ thread_local object's destructor (MinGW: __cxa_thread_atexit over
 *                     emutls, run from the DLL's TLS callback);
 *   dll_detach_free   DllMain at DLL_THREAD_DETACH, reading a Win32 TLS slot.
 * jemalloc #2825 is a DLL whose allocator state went at DLL_THREAD_DETACH before thread_local
 * destructors that still called into it; mimalloc #1377 analyses the same paths for mimalloc.
 * The DLL is linked like the programs of its configuration, so its mallocs reach the
 * configured allocator (its own copy, when that is a static library).
 */
#include "../../modules/windows/win_dll.h"
#include "repro.h"

static void *dll;
static const win_dll_api *api;
static uint64_t per_cycle, total, used; /* threads per load/unload cycle, in all, so far */
static size_t block_size;

static int setup(const tl_params *p) {
    per_cycle = p->interval;
    total = p->threads;
    block_size = (size_t)p->size;
    return 0;
}

/* Batches never straddle a checkpoint, so cycles end exactly at the checkpoints. */
static void load(size_t n) {
    (void)n;
    if (dll != NULL)
        return;
    dll = tl_module_open(TLSLEAK_SCENARIO);
    api = tl_module_data(dll, WIN_DLL_API);
}

static void unload(size_t n) {
    used += n;
    if (used % per_cycle != 0 && used != total)
        return;
    api = NULL;
    tl_module_close(dll);
    dll = NULL;
}

static void body(tl_thread *t) {
    (void)t;
    api->use(block_size);
}

int main(int argc, char **argv) {
    static const tl_scenario s = {.name = TLSLEAK_SCENARIO,
                                  .setup = setup,
                                  .body = body,
                                  .before_batch = load,
                                  .after_batch = unload};
    return tl_run(argc, argv, &s);
}
