/*
 * What a scenario sees of the common driver: parameters, the thread churn loop (or pool), blocks
 * that really occupy memory, the build's thread-exit key (tlskey.c), and the pieces several
 * scenarios are built from (shapes.c, module.c).
 */
#ifndef TL_REPRO_H
#define TL_REPRO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The command line of DESIGN.md "Repro command line", as in force. */
typedef struct tl_params {
    uint64_t threads;     /* threads to create and join in total */
    uint64_t concurrency; /* threads alive at once */
    uint64_t size;        /* block size in bytes */
    uint64_t interval;    /* joined threads between checkpoints */
    char thread_api[16];  /* --thread-api as given; "" = the scenario's own default */
} tl_params;

/* One thread as the driver runs it; its body gets a pointer to it, and so may a destructor it
 * arms (tl_key_arm). The driver owns it: it lives, per slot, for the whole run. */
typedef struct tl_thread {
    const tl_params *params;
    size_t slot;    /* 0 .. concurrency-1: which of the threads alive at once (pool: the worker) */
    unsigned round; /* destructor rounds so far: tl_key_arm and tl_key_rearm keep it */
} tl_thread;

/* How threads are made. NULL in tl_scenario means the OS threads of prim.h; a C++ scenario
 * passes std::thread, tl_detached_spawner makes detached threads. Slots run from 0 to the
 * count given to init, minus one. */
typedef struct tl_spawner {
    int (*init)(size_t slots); /* once, before the first checkpoint; 0 = ok */
    int (*start)(size_t slot, void (*fn)(void *), void *arg);
    int (*join)(size_t slot); /* returns once the thread is gone: its destructors have run */
    /* The --thread-api name of a spawner that makes threads its own way ("std" for
     * std::thread); NULL for spawners built on the OS threads of prim.h. */
    const char *api;
} tl_spawner;

/* Detached threads (nobody joins them). join(slot) does not join: it waits on a semaphore the
 * thread posts when its function returns, then until the OS no longer lists the thread. */
extern const tl_spawner tl_detached_spawner;

typedef struct tl_scenario {
    const char *name;                 /* TLSLEAK_SCENARIO, set by the build */
    int (*setup)(const tl_params *p); /* optional, before the first checkpoint; 0 = ok */
    void (*body)(tl_thread *t);       /* runs in each thread (pool: once per work item) */
    /* Optional, in the main thread around each batch of threads (slots 0..n-1): before
     * starting them, and after the last one is gone. Not called for a pool. */
    void (*before_batch)(size_t n);
    void (*after_batch)(size_t n);
    const tl_spawner *spawner; /* optional */
    /* Nonzero: no churn. `concurrency` threads start after the first checkpoint and run the
     * body once per work item, `threads` items in all (`done` counts items); they end, and are
     * joined, before the last checkpoint. */
    int pool;
} tl_scenario;

/* Parse arguments, print start/alloc lines, churn with checkpoints, print end; returns the
 * process exit status (0 ok, 1 failure, 2 bad arguments). */
int tl_run(int argc, char **argv, const tl_scenario *s);

/* Keep the compiler from proving a block unused: no malloc/free pair or memset is elided. */
#if defined(__GNUC__) || defined(__clang__)
static inline void tl_escape(void *p) {
    __asm__ volatile("" : : "r"(p) : "memory");
}
#else
void tl_escape(void *p); /* an opaque call in block.c */
#endif

/* malloc(size), every byte written, escaped; exits with status 1 when malloc fails. */
void *tl_block_new(size_t size);

/* Use the allocator from this thread: tl_block_new(size), then free it. */
void tl_block_use(size_t size);

/* One line on stderr, then exit status 1 without running atexit handlers. */
void tl_fatal(const char *msg);

/* Never returns; for fault scenarios that hang in a destructor. */
void tl_block_forever(void);

/* The build's thread-exit key (TLSLEAK_TLS=pthread: prim key; c11: tss_create). One key per
 * program; the destructor runs at thread exit for a non-NULL value. */
int tl_key_create(void (*dtor)(void *value)); /* 0 = ok, -1 when the build has no key */
int tl_key_set(const void *value);            /* 0 = ok */
void *tl_key_get(void);                       /* NULL when unset */
int tl_key_delete(void);            /* 0 = ok; the destructor does not run for values still set */
const char *tl_key_mechanism(void); /* "none", "pthread", "c11" or "cxx" */

/* Destructor rounds at thread exit: a destructor that sets its key again runs again, in the next
 * round, up to this many rounds (PTHREAD_DESTRUCTOR_ITERATIONS, TSS_DTOR_ITERATIONS; 1 for
 * Windows FLS, 0 when the build has no key). */
unsigned tl_key_rounds(void);

/* Set the key to t, its round count to 0; exits with status 1 on failure. */
void tl_key_arm(tl_thread *t);

/* For a destructor armed with tl_key_arm: counts this round and, unless it is the last, sets
 * the key to t again so the destructor runs once more. 1 = re-armed, 0 = this is the last. */
int tl_key_rearm(tl_thread *t);

/* End the calling thread now (pthread_exit, _endthreadex): its destructors run, the rest of
 * its function does not. */
void tl_thread_exit(void);

/* A block held under the key: the destructor frees it (dtor_free's shape). tl_keyblock_setup
 * creates the key; tl_keyblock_body frees the block the key holds (none in a fresh thread),
 * then mallocs a --size block and holds it under the key. Usable as setup and body as they are. */
int tl_keyblock_setup(const tl_params *p);
void tl_keyblock_body(tl_thread *t);

/* A key whose destructor uses the allocator (tl_block_use of --size) when it runs; the value
 * is the thread (arm it with tl_key_arm). */
int tl_dtor_alloc_setup(const tl_params *p);

/* Blocks a thread hands to the main thread, which frees them after the join: one per slot.
 * tl_handoff_setup (from setup) makes room; tl_handoff_free is an after_batch hook. */
int tl_handoff_setup(const tl_params *p);
void tl_handoff_put(const tl_thread *t, void *block);
void tl_handoff_free(size_t n);

/* A module (shared library) in the executable's own directory: `name` without the suffix.
 * Each exits with status 1 on failure. */
void *tl_module_open(const char *name);
const void *tl_module_data(void *module, const char *symbol); /* an exported object */
void tl_module_close(void *module);

#ifdef __cplusplus
}
#endif

#endif
