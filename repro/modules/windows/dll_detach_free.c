/*
 * The DLL of dll_detach_free: each thread's block is held in a Win32 TLS slot the DLL owns,
 * and the DLL's DllMain frees it at DLL_THREAD_DETACH, the hook jemalloc and mimalloc DLLs use
 * for their own per-thread state (jemalloc/jemalloc #2825).
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <stdlib.h>
#include <string.h>

#include "../../prim/prim.h"
#include "win_dll.h"

static DWORD slot = TLS_OUT_OF_INDEXES;

static void use(size_t size) {
    void *p = malloc(size);
    if (p == NULL)
        abort();
    memset(p, 0xA5, size); /* every page counts in rss and commit */
    if (!TlsSetValue(slot, p))
        abort();
}

PRIM_EXPORT const win_dll_api win_dll_api_object = {use};

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved);
BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved) {
    (void)inst;
    (void)reserved;
    switch (reason) {
        case DLL_PROCESS_ATTACH:
            slot = TlsAlloc();
            return slot != TLS_OUT_OF_INDEXES;
        case DLL_THREAD_DETACH: {
            void *p = TlsGetValue(slot);
            if (p != NULL) {
                TlsSetValue(slot, NULL);
                free(p);
            }
            break;
        }
        case DLL_PROCESS_DETACH:
            TlsFree(slot);
            break;
        default:
            break;
    }
    return TRUE;
}
