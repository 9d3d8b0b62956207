/*
 * Modules (shared libraries) that a scenario loads from the executable's own directory.
 */
#include <stdio.h>

#include "internal.h"

void *tl_module_open(const char *name) {
    char path[4096];
    char msg[4200];
    if (prim_module_path(name, path, sizeof path) != 0) {
        snprintf(msg, sizeof msg, "cannot find the directory of the executable for %s", name);
        tl_fatal(msg);
    }
    void *m = prim_module_open(path);
    if (m == NULL) {
        snprintf(msg, sizeof msg, "cannot load %s", path);
        tl_fatal(msg);
    }
    return m;
}

const void *tl_module_data(void *module, const char *symbol) {
    const void *addr = prim_module_symbol(module, symbol);
    if (addr == NULL) {
        char msg[256];
        snprintf(msg, sizeof msg, "the module has no symbol %s", symbol);
        tl_fatal(msg);
    }
    return addr;
}

void tl_module_close(void *module) {
    if (prim_module_close(module) != 0)
        tl_fatal("cannot unload a module");
}
