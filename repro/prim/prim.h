/*
 * Platform layer (in the style of mimalloc's src/prim): the only place that talks to the OS.
 * CMake compiles exactly one implementation (linux.c or windows.c); nothing else in repro/
 * may test which OS it runs on.
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
int prim_thread_join(prim_thread *t);                                 /* 0 = ok */

/* OS thread-exit key: pthread key on POSIX, fiber-local storage (FLS) on Windows.
 * The destructor runs at thread exit for a non-NULL value. */
typedef struct prim_tls_key {
    uintptr_t id;
} prim_tls_key;

int prim_tls_create(prim_tls_key *key, void (*dtor)(void *value)); /* 0 = ok */
int prim_tls_set(prim_tls_key key, void *value);                   /* 0 = ok */

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
