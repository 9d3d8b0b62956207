/*
 * The `api` route (DESIGN.md "Build manifest", "route"): MinGW builds of mimalloc do not replace
 * the CRT's malloc, so programs of a Windows mimalloc variant are linked with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free and every call the program makes
 * to those (its own, libstdc++'s operator new/delete, winpthreads', emutls') lands here, in
 * mimalloc's own functions. Calls the CRT makes inside msvcrt.dll stay the CRT's.
 *
 * One exception, or the program never starts: a MinGW mimalloc keeps its thread's heap in an
 * emulated TLS variable (__thread, libgcc's emutls), and emutls mallocs each thread's TLS
 * array at the thread's first access; routed to mi_malloc, that access would recurse forever.
 * So a call made while this thread is already inside mimalloc goes to the CRT (a Win32 TLS
 * slot marks it: TlsGetValue never allocates), and free sends a block mimalloc does not own
 * back to the CRT. emutls's blocks thus stay the CRT's, as in any MinGW program that links
 * mimalloc without routing.
 *
 * tlsleak_alloc_route tells allocid.c this program routes (the `alloc` line's mode=api). These
 * programs link mimalloc_exports.c too, so allocid.c finds a statically linked mimalloc here
 * as on Linux.
 */
#include <stdbool.h>
#include <stddef.h>

#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include "../prim/prim.h"

/* Declared here rather than from mimalloc.h: stable since mimalloc 1.x. */
void *mi_malloc(size_t size);
void *mi_calloc(size_t count, size_t size);
void *mi_realloc(void *p, size_t size);
void mi_free(void *p);
bool mi_is_in_heap_region(const void *p);

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *p, size_t size);
void __real_free(void *p);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t count, size_t size);
void *__wrap_realloc(void *p, size_t size);
void __wrap_free(void *p);

/* Slot 0 (TLS_OUT_OF_INDEXES before the first call) would be a real slot: keep index + 1. */
static volatile LONG inside_slot;

static DWORD slot(void) {
    LONG s = inside_slot;
    if (s == 0) {
        DWORD fresh = TlsAlloc();
        if (fresh == TLS_OUT_OF_INDEXES)
            return TLS_OUT_OF_INDEXES;
        if (InterlockedCompareExchange(&inside_slot, (LONG)fresh + 1, 0) != 0)
            TlsFree(fresh); /* another thread won the race */
        s = inside_slot;
    }
    return (DWORD)(s - 1);
}

/* 1 and marks this thread as inside mimalloc, or 0 when it already is (or no slot). */
static int enter(void) {
    DWORD s = slot();
    if (s == TLS_OUT_OF_INDEXES || TlsGetValue(s) != NULL)
        return 0;
    TlsSetValue(s, (void *)1);
    return 1;
}

static void leave(void) {
    TlsSetValue(slot(), NULL);
}

void *__wrap_malloc(size_t size) {
    if (!enter())
        return __real_malloc(size);
    void *p = mi_malloc(size);
    leave();
    return p;
}

void *__wrap_calloc(size_t count, size_t size) {
    if (!enter())
        return __real_calloc(count, size);
    void *p = mi_calloc(count, size);
    leave();
    return p;
}

void *__wrap_realloc(void *p, size_t size) {
    if (p != NULL && !mi_is_in_heap_region(p))
        return __real_realloc(p, size);
    if (!enter())
        return __real_realloc(p, size);
    void *q = mi_realloc(p, size);
    leave();
    return q;
}

void __wrap_free(void *p) {
    if (p == NULL)
        return;
    if (!mi_is_in_heap_region(p)) {
        __real_free(p);
        return;
    }
    int entered = enter();
    mi_free(p);
    if (entered)
        leave();
}

PRIM_EXPORT const char *const tlsleak_alloc_route = "api";
