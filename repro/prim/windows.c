/*
 * Platform layer for Windows: process memory counters (commit = PrivateUsage, or PagefileUsage
 * where the runtime leaves PrivateUsage empty, as Wine does), threads made by _beginthreadex or
 * CreateThread (prim_thread_api_set), fiber-local storage (FLS) as the thread-exit key, and
 * symbol lookup over the loaded modules.
 */
#define WIN32_LEAN_AND_MEAN
#define PSAPI_VERSION 2 /* K32* entry points in kernel32: no psapi.dll needed */
#include <windows.h>

#include <limits.h>
#include <process.h>
#include <psapi.h>
#include <stdio.h>
#include <string.h>
#include <tlhelp32.h>

#include "prim.h"

_Static_assert(sizeof(HANDLE) <= sizeof(uintptr_t), "HANDLE must fit prim_thread.handle");

static LARGE_INTEGER qpc_freq;

void prim_init(void) {
    QueryPerformanceFrequency(&qpc_freq);
}

const char *prim_os_name(void) {
    return "windows";
}

unsigned long prim_pid(void) {
    return (unsigned long)GetCurrentProcessId();
}

/* Walk the address space: every region that is not free counts as one mapping. */
static void walk_regions(prim_mem *m) {
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    const char *addr = si.lpMinimumApplicationAddress;
    const char *end = si.lpMaximumApplicationAddress;
    MEMORY_BASIC_INFORMATION mbi;
    while (addr < end && VirtualQuery(addr, &mbi, sizeof mbi) == sizeof mbi) {
        if (mbi.State != MEM_FREE) {
            m->maps++;
            m->vsize += mbi.RegionSize;
        }
        addr = (const char *)mbi.BaseAddress + mbi.RegionSize;
    }
    m->have |= PRIM_HAVE_MAPS | PRIM_HAVE_VSIZE;
}

static void count_threads(prim_mem *m) {
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
    if (snap == INVALID_HANDLE_VALUE)
        return;
    DWORD pid = GetCurrentProcessId();
    THREADENTRY32 te;
    te.dwSize = sizeof te;
    for (BOOL ok = Thread32First(snap, &te); ok; ok = Thread32Next(snap, &te)) {
        if (te.th32OwnerProcessID == pid)
            m->threads++;
    }
    CloseHandle(snap);
    m->have |= PRIM_HAVE_THREADS;
}

/* PrivateUsage (the process's commit charge) is only there when the call filled the _EX
 * layout: some runtimes fill the short one and set cb to say so. Wine 8 fills the short one
 * without saying so, leaving PrivateUsage as it was: hence the zeroed struct, and
 * PagefileUsage (the same figure on Windows, which Wine does fill) when PrivateUsage is 0.
 * commit_from names which one was used. */
void prim_mem_read(prim_mem *m) {
    memset(m, 0, sizeof *m);
    PROCESS_MEMORY_COUNTERS_EX pmc;
    memset(&pmc, 0, sizeof pmc);
    pmc.cb = sizeof pmc;
    if (GetProcessMemoryInfo(GetCurrentProcess(), (PROCESS_MEMORY_COUNTERS *)&pmc, sizeof pmc)) {
        m->rss = pmc.WorkingSetSize;
        m->have |= PRIM_HAVE_RSS;
        if (pmc.cb >= sizeof pmc && pmc.PrivateUsage != 0) {
            m->commit = pmc.PrivateUsage;
            m->commit_from = "private";
        } else if (pmc.PagefileUsage != 0) {
            m->commit = pmc.PagefileUsage;
            m->commit_from = "pagefile";
        }
        if (m->commit_from != NULL)
            m->have |= PRIM_HAVE_COMMIT;
    }
    walk_regions(m);
    count_threads(m);
}

uint64_t prim_clock_ns(void) {
    LARGE_INTEGER c;
    QueryPerformanceCounter(&c);
    uint64_t ticks = (uint64_t)c.QuadPart, freq = (uint64_t)qpc_freq.QuadPart;
    /* Split to avoid overflowing ticks * 1e9. */
    return ticks / freq * 1000000000u + ticks % freq * 1000000000u / freq;
}

void prim_sleep_ms(unsigned ms) {
    Sleep(ms);
}

/* How threads are made (DESIGN.md "Repro command line", --thread-api). _beginthreadex by default:
 * the CRT then sets up and frees its per-thread data itself, so a static CRT cannot add a leak of
 * its own to the measurement. CreateThread bypasses the CRT, as many programs and runtimes do:
 * the CRT then learns of the thread only from DLL_THREAD_ATTACH/DETACH and TLS callbacks. */
typedef enum thread_api { API_BEGINTHREADEX, API_CREATETHREAD } thread_api;
static thread_api api = API_BEGINTHREADEX;

static const struct {
    const char *name;
    thread_api api;
} thread_apis[] = {{"beginthreadex", API_BEGINTHREADEX}, {"createthread", API_CREATETHREAD}};

int prim_thread_api_set(const char *name) {
    for (size_t i = 0; i < sizeof thread_apis / sizeof thread_apis[0]; i++) {
        if (strcmp(name, thread_apis[i].name) == 0) {
            api = thread_apis[i].api;
            return 0;
        }
    }
    return -1;
}

const char *prim_thread_api_name(void) {
    return thread_apis[api].name;
}

static unsigned __stdcall crt_trampoline(void *arg) {
    prim_thread *t = arg;
    t->fn(t->arg);
    return 0;
}

static DWORD WINAPI win32_trampoline(void *arg) {
    prim_thread *t = arg;
    t->fn(t->arg);
    return 0;
}

int prim_thread_create(prim_thread *t, prim_thread_fn fn, void *arg) {
    t->fn = fn;
    t->arg = arg;
    uintptr_t h;
    if (api == API_CREATETHREAD)
        h = (uintptr_t)CreateThread(NULL, 0, win32_trampoline, t, 0, NULL);
    else
        h = _beginthreadex(NULL, 0, crt_trampoline, t, 0, NULL);
    if (h == 0)
        return -1;
    t->handle = h;
    return 0;
}

int prim_thread_join(prim_thread *t) {
    HANDLE h = (HANDLE)t->handle;
    DWORD rc = WaitForSingleObject(h, INFINITE);
    CloseHandle(h);
    return rc == WAIT_OBJECT_0 ? 0 : -1;
}

int prim_thread_create_detached(prim_thread *t, prim_thread_fn fn, void *arg) {
    if (prim_thread_create(t, fn, arg) != 0)
        return -1;
    CloseHandle((HANDLE)t->handle); /* nobody waits on this handle: the thread is detached */
    t->handle = 0;
    return 0;
}

uint64_t prim_thread_id(void) {
    return GetCurrentThreadId();
}

/* A fresh handle from the id, only to wait on; none when the thread is already gone. */
void prim_thread_wait_gone(uint64_t id) {
    HANDLE h = OpenThread(SYNCHRONIZE, FALSE, (DWORD)id);
    if (h == NULL)
        return;
    WaitForSingleObject(h, INFINITE);
    CloseHandle(h);
}

/* The exit that matches how the thread was made. */
void prim_thread_exit(void) {
    if (api == API_CREATETHREAD)
        ExitThread(0);
    _endthreadex(0);
}

int prim_sem_init(prim_sem *s) {
    HANDLE h = CreateSemaphoreA(NULL, 0, LONG_MAX, NULL);
    if (h == NULL)
        return -1;
    s->handle = (uintptr_t)h;
    return 0;
}

void prim_sem_post(prim_sem *s) {
    ReleaseSemaphore((HANDLE)s->handle, 1, NULL);
}

void prim_sem_wait(prim_sem *s) {
    WaitForSingleObject((HANDLE)s->handle, INFINITE);
}

/* FLS callbacks get only the value, so each key gets its own trampoline that knows its
 * destructor. A handful of keys is all the scenarios need. */
#define PRIM_MAX_KEYS 4
static void (*key_dtors[PRIM_MAX_KEYS])(void *);
static LONG keys_used;

#define FLS_TRAMPOLINE(i)                                                                          \
    static void NTAPI fls_dtor_##i(void *value) {                                                  \
        if (value != NULL && key_dtors[i] != NULL)                                                 \
            key_dtors[i](value);                                                                   \
    }
FLS_TRAMPOLINE(0)
FLS_TRAMPOLINE(1)
FLS_TRAMPOLINE(2)
FLS_TRAMPOLINE(3)
static PFLS_CALLBACK_FUNCTION const fls_trampolines[PRIM_MAX_KEYS] = {fls_dtor_0, fls_dtor_1,
                                                                      fls_dtor_2, fls_dtor_3};

int prim_tls_create(prim_tls_key *key, void (*dtor)(void *value)) {
    LONG slot = InterlockedIncrement(&keys_used) - 1;
    if (slot >= PRIM_MAX_KEYS)
        return -1;
    key_dtors[slot] = dtor;
    DWORD index = FlsAlloc(dtor != NULL ? fls_trampolines[slot] : NULL);
    if (index == FLS_OUT_OF_INDEXES)
        return -1;
    key->id = index;
    return 0;
}

int prim_tls_set(prim_tls_key key, const void *value) {
    return FlsSetValue((DWORD)key.id, (void *)value) ? 0 : -1;
}

void *prim_tls_get(prim_tls_key key) {
    return FlsGetValue((DWORD)key.id);
}

/* FlsFree runs the callback for every thread's value that is still set. */
int prim_tls_delete(prim_tls_key key) {
    return FlsFree((DWORD)key.id) ? 0 : -1;
}

unsigned prim_tls_rounds(void) {
    return 1;
}

void *prim_symbol(const char *name) {
    HMODULE mods[1024];
    DWORD needed = 0;
    HANDLE self = GetCurrentProcess();
    /* The executable comes first in the list, then the DLLs in load order. */
    if (!EnumProcessModules(self, mods, sizeof mods, &needed))
        return NULL;
    size_t count = needed / sizeof mods[0];
    if (count > sizeof mods / sizeof mods[0])
        count = sizeof mods / sizeof mods[0];
    for (size_t i = 0; i < count; i++) {
        FARPROC p = GetProcAddress(mods[i], name);
        if (p != NULL) {
            void *addr;
            memcpy(&addr, &p, sizeof addr);
            return addr;
        }
    }
    return NULL;
}

/* MinGW calls a DLL function through a stub in the calling module, `jmp [rip+disp32]`
 * (FF 25): look through it to the module that really holds the function. */
static const void *through_import_stub(const void *addr) {
    const unsigned char *p = addr;
    if (p == NULL || p[0] != 0xFF || p[1] != 0x25)
        return addr;
    int32_t disp;
    memcpy(&disp, p + 2, sizeof disp);
    const void *target;
    memcpy(&target, p + 6 + disp, sizeof target);
    return target;
}

void prim_symbol_file(const void *addr, char *buf, size_t size) {
    HMODULE mod;
    if (size == 0)
        return;
    buf[0] = '\0';
    addr = through_import_stub(addr);
    if (!GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                                GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                            (LPCSTR)addr, &mod))
        return;
    DWORD n = GetModuleFileNameA(mod, buf, (DWORD)size);
    if (n == 0 || n >= size)
        buf[0] = '\0';
}

int prim_module_path(const char *name, char *buf, size_t size) {
    char exe[MAX_PATH];
    DWORD n = GetModuleFileNameA(NULL, exe, sizeof exe);
    if (n == 0 || n >= sizeof exe)
        return -1;
    char *sep = strrchr(exe, '\\');
    if (sep == NULL)
        return -1;
    *sep = '\0';
    int len = snprintf(buf, size, "%s\\%s.dll", exe, name);
    return len > 0 && (size_t)len < size ? 0 : -1;
}

void *prim_module_open(const char *path) {
    return LoadLibraryA(path);
}

void *prim_module_symbol(void *module, const char *name) {
    FARPROC p = GetProcAddress((HMODULE)module, name);
    void *addr;
    memcpy(&addr, &p, sizeof addr);
    return addr;
}

int prim_module_close(void *module) {
    return FreeLibrary((HMODULE)module) ? 0 : -1;
}

void prim_libc(char *buf, size_t size) {
    /* The CRT is the module that holds fopen: msvcrt.dll or ucrtbase.dll. */
    char path[MAX_PATH];
    FILE *(*fopen_fn)(const char *, const char *) = fopen;
    void *addr;
    memcpy(&addr, &fopen_fn, sizeof addr);
    prim_symbol_file(addr, path, sizeof path);
    const char *base = strrchr(path, '\\');
    base = base != NULL ? base + 1 : path;
    int len = (int)strcspn(base, ".");
    if (len > 0)
        snprintf(buf, size, "%.*s", len, base);
    else
        snprintf(buf, size, "%s", "unknown");
}
