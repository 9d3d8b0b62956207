/*
 * tls_module: a shared library with thread-local state of its own, for the dlopen_module
 * scenario. It links its own copy of the driver's key, block and platform code (compiled
 * with hidden visibility, so it never binds to the executable's), and so has its own key, of
 * the mechanism the build picked (TLSLEAK_TLS), with a destructor that frees the block the
 * thread holds under it. It also has a thread-local counter: a module loaded at run time gets
 * its TLS from the loader on each thread's first use (glibc mallocs it in __tls_get_addr and
 * frees it when the thread's stack is reused or released; MinGW's emutls mallocs it too).
 * The module must delete its key before it is unloaded: a destructor left registered would
 * point into unmapped code at the next thread exit.
 */
#include "tls_module.h"
#include "../prim/prim.h"

static _Thread_local unsigned long uses;

static int module_load(void) {
    return tl_keyblock_setup(NULL);
}

static void module_unload(void) {
    if (tl_key_delete() != 0)
        tl_fatal("tls_module: cannot delete its key");
}

static void module_use(tl_thread *t) {
    uses++;
    tl_escape(&uses); /* the TLS block really is touched */
    tl_keyblock_body(t);
}

PRIM_EXPORT const tls_module_api tls_module = {module_load, module_unload, module_use};
