/*
 * Platform layer (in the style of mimalloc's src/prim and snmalloc's pal/): the only place that
 * talks to the OS. Nothing else in repro/ may test which OS it runs on. CMake
 * (repro/CMakeLists.txt) compiles one set of files, and those files may depend on nothing but:
 *   windows.c   this header and the Windows API
 *   posix.c     this header, posix.h and POSIX headers: threads, thread keys, semaphores,
 *               clocks, dlopen/dlsym (the POSIX tier, like snmalloc's PALPOSIX)
 *   linux.c     this header, posix.h and Linux or C-library headers, beside posix.c: /proc
 *               figures, kernel thread ids, the link map, the C library's version
 *   darwin.c    this header, posix.h and Apple headers (mach, libproc, dyld), beside posix.c;
 *               also the semaphores, as macOS has no unnamed ones
 * A platform file on the POSIX tier defines prim_os_name, prim_mem_read, prim_thread_id,
 * prim_thread_wait_gone, prim_symbol_file, prim_module_path and prim_libc.
 *
 * None of these functions may call malloc after prim_init(), except where noted: they run
 * between checkpoints and must not show up as heap growth.
 */
#ifndef TLSLEAK_PRIM_H
#define TLSLEAK_PRIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bits of prim_mem.have: which fields the OS could give. */
enum {
    PRIM_HAVE_RSS = 1u << 0,
    PRIM_HAVE_VSIZE = 1u << 1,
    PRIM_HAVE_MAPS = 1u << 2,
    PRIM_HAVE_THREADS = 1u << 3,
    PRIM_HAVE_COMMIT = 1u << 4,
};

typedef struct prim_mem {
    unsigned have;    /* PRIM_HAVE_* bits */
    uint64_t rss;     /* resident bytes (working set) */
    uint64_t vsize;   /* virtual bytes reserved by the process */
    uint64_t maps;    /* number of memory mappings (regions) */
    uint64_t threads; /* threads the OS counts in this process */
    uint64_t commit;  /* commit charge, where the OS has one */
    /* Which OS counter `commit` is (Windows: "private" = PrivateUsage, "pagefile" =
     * PagefileUsage where PrivateUsage is left empty); NULL when there is no commit. */
    const char *commit_from;
} prim_mem;

/* Called once at start, before anything below. */
void prim_init(void);

/* Name of the OS as printed in `start os=...`. */
const char *prim_os_name(void);

/* Process id. */
unsigned long prim_pid(void);

/* Fill *m; never allocates. */
void prim_mem_read(prim_mem *m);

/* Monotonic clock in nanoseconds. */
uint64_t prim_clock_ns(void);

/* Sleep; used only by fault scenarios that must block forever. */
void prim_sleep_ms(unsigned ms);

/* Threads. The caller owns *t and keeps it alive until prim_thread_join returns. */
typedef void (*prim_thread_fn)(void *arg);
typedef struct prim_thread {
    uintptr_t handle;
    prim_thread_fn fn;
    void *arg;
} prim_thread;

int prim_thread_create(prim_thread *t, prim_thread_fn fn, void *arg); /* 0 = ok */

/* Which OS call prim_thread_create uses (--thread-api, DESIGN.md "Repro command line"): "pthread"
 * on POSIX; "beginthreadex" (the default) or "createthread" on Windows. Call before the first
 * thread; 0 = ok, -1 = not offered here. */
int prim_thread_api_set(const char *name);
const char *prim_thread_api_name(void); /* the one in force */
int prim_thread_join(prim_thread *t);   /* 0 = ok */

/* A detached thread: nobody joins it, it gives back its own stack and handle when it ends.
 * *t must stay alive until fn has started. 0 = ok. */
int prim_thread_create_detached(prim_thread *t, prim_thread_fn fn, void *arg);

/* The calling thread's OS id (Linux tid, Windows thread id). */
uint64_t prim_thread_id(void);

/* Wait, without joining, until the OS no longer has the thread with this id: it has run every
 * thread-exit destructor and is gone from the process. The thread must already be ending. */
void prim_thread_wait_gone(uint64_t id);

/* End the calling thread now, as pthread_exit or _endthreadex do: its thread-exit destructors
 * run, the rest of its function does not. */
void prim_thread_exit(void);

/* Counting semaphore, starting at 0. prim_sem_init may allocate: call it at set-up only. */
typedef struct prim_sem {
    uintptr_t handle;
} prim_sem;

int prim_sem_init(prim_sem *s); /* 0 = ok */
void prim_sem_post(prim_sem *s);
void prim_sem_wait(prim_sem *s);

/* OS thread-exit key: pthread key on POSIX, fiber-local storage (FLS) on Windows.
 * The destructor runs at thread exit for a non-NULL value. */
typedef struct prim_tls_key {
    uintptr_t id;
} prim_tls_key;

int prim_tls_create(prim_tls_key *key, void (*dtor)(void *value)); /* 0 = ok */
int prim_tls_set(prim_tls_key key, const void *value);             /* 0 = ok */
void *prim_tls_get(prim_tls_key key);                              /* NULL when unset */
int prim_tls_delete(prim_tls_key key); /* 0 = ok; values still set are not destroyed */

/* How many times a thread's exit runs the key destructors: a destructor that sets its key again
 * runs again in the next round, up to this many rounds (PTHREAD_DESTRUCTOR_ITERATIONS); then
 * the values left are dropped. 1 where there are no rounds (Windows FLS). */
unsigned prim_tls_rounds(void);

/* PRIM_EARLY_INIT(fn) defines `static void fn(void)` and runs it as early as the platform lets
 * a program run code: on ELF from the executable's .preinit_array, before the initialisers of
 * every shared library (so before an allocator that sets itself up in one, linked or
 * preloaded); elsewhere as a constructor of priority 101, before the executable's other
 * constructors (so before a statically linked allocator's). musl never runs .preinit_array
 * (its start-up runs .init_array only, after the libraries' initialisers): there too a
 * constructor of priority 101 (TLSLEAK_MUSL_VERSION: the build says it is musl, which has no
 * macro of its own). fn must not allocate. */
#if defined(__ELF__) && !defined(TLSLEAK_MUSL_VERSION)
#define PRIM_EARLY_INIT(fn)                                                                        \
    static void fn(void);                                                                          \
    __attribute__((used, section(".preinit_array"))) static void (*fn##_preinit)(void) = fn;       \
    static void fn(void)
#else
#define PRIM_EARLY_INIT(fn)                                                                        \
    __attribute__((constructor(101))) static void fn(void);                                        \
    static void fn(void)
#endif

/* Modules: a shared library loaded and unloaded at run time. PRIM_EXPORT marks what a module
 * exports (everything else in it stays hidden, so it keeps its own copy of what it links). */
#if defined(_WIN32)
#define PRIM_EXPORT __declspec(dllexport)
#else
#define PRIM_EXPORT __attribute__((visibility("default")))
#endif

/* The path of module `name` in the executable's own directory, with the platform's suffix
 * (".so", ".dll"); 0 = ok. Does not allocate. */
int prim_module_path(const char *name, char *buf, size_t size);
void *prim_module_open(const char *path); /* NULL on failure; allocates (the loader) */
void *prim_module_symbol(void *module, const char *name); /* NULL when missing */
int prim_module_close(void *module);                      /* 0 = ok */

/* Address of a global symbol as the running process resolves it (executable first, then the
 * libraries in load order), or NULL. May allocate on failure: call only at start-up. */
void *prim_symbol(const char *name);

/* Absolute path of the file (executable or library) that holds `addr`; "" when unknown. */
void prim_symbol_file(const void *addr, char *buf, size_t size);

/* The C library in use, e.g. "glibc-2.36" or "msvcrt"; no spaces. */
void prim_libc(char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif
