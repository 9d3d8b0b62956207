/*
 * @scenario dlopen_module tls=pthread
 * @role scenario
 * @summary A dlopen'ed library's TLS destructors; the library is reloaded every --interval threads.
 * @refs jemalloc/jemalloc #2825; msys2/MINGW-packages #7096; microsoft/mimalloc #1377
 *
 * The thread-local state lives in a shared library, tls_module (repro/modules/), that the main
 * thread loads (dlopen, LoadLibrary), lets --interval threads use, and unloads (dlclose,
 * FreeLibrary) before the checkpoint: a plug-in used by short-lived threads and dropped,
 * cycle after cycle. The module has its own key (created on load, deleted before unload) whose
 * destructor frees the --size block each thread holds under it, and a thread-local variable,
 * so each thread also gets the module's TLS block from the loader (glibc mallocs it in the
 * thread at first use and frees it from whichever thread later reuses or releases the stack;
 * MinGW's emutls, the shape of msys2/MINGW-packages #7096, mallocs it too). Destructors and TLS
 * that belong to a library rather than the program are where jemalloc #2825 (a DLL's
 * per-thread state freed at DLL_THREAD_DETACH, before thread_local destructors) and mimalloc
 * #1377 (a DLL's init and exit paths) went wrong. The module calls the executable's malloc, so
 * it uses the configured allocator in every link mode. A leak per thread shows per thread; a
 * leak per load/unload cycle shows divided by --interval (--interval 1 reloads around every
 * batch of threads, at the cost of a dlopen and a dlclose each).
 */
#include "../modules/tls_module.h"

static void *module;
static const tls_module_api *api;
static uint64_t per_cycle, total, used; /* threads per load/unload cycle, in all, so far */

static int setup(const tl_params *p) {
    per_cycle = p->interval;
    total = p->threads;
    return 0;
}

/* Batches never straddle a checkpoint, so cycles end exactly at the checkpoints. */
static void load(size_t n) {
    (void)n;
    if (module != NULL)
        return;
    module = tl_module_open(TLS_MODULE_FILE);
    api = tl_module_data(module, TLS_MODULE_API);
    if (api->load() != 0)
        tl_fatal("tls_module: cannot create its key");
}

static void unload(size_t n) {
    used += n;
    if (used % per_cycle != 0 && used != total)
        return;
    api->unload();
    api = NULL;
    tl_module_close(module);
    module = NULL;
}

static void body(tl_thread *t) {
    api->use(t);
}

int main(int argc, char **argv) {
    static const tl_scenario scenario = {.name = TLSLEAK_SCENARIO,
                                         .setup = setup,
                                         .body = body,
                                         .before_batch = load,
                                         .after_batch = unload};
    return tl_run(argc, argv, &scenario);
}
