/*
 * The interface of the Windows scenario DLLs (repro/modules/windows/), which the dll_module
 * scenarios load with LoadLibrary and release with FreeLibrary: one exported object, found by
 * name. Each DLL is named after its scenario.
 */
#ifndef TLSLEAK_WIN_DLL_H
#define TLSLEAK_WIN_DLL_H

#include <stddef.h>

#define WIN_DLL_API "win_dll_api_object" /* the exported win_dll_api object */

typedef struct win_dll_api {
    /* In a thread: malloc `size` bytes (every byte written) and hold them in the DLL's
     * thread-local state, whose thread-exit hook frees them. */
    void (*use)(size_t size);
} win_dll_api;

#endif
