/*
 * What a scenario sees of the common driver: parameters, the thread churn loop, blocks that
 * really occupy memory, and the build's thread-exit key (tlskey.c).
 */
#ifndef TLSLEAK_H
#define TLSLEAK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The command line of DESIGN.md section 2, as in force. */
typedef struct tl_params {
    uint64_t threads;     /* threads to create and join in total */
    uint64_t concurrency; /* threads alive at once */
    uint64_t size;        /* block size in bytes */
    uint64_t interval;    /* joined threads between checkpoints */
} tl_params;

/* How threads are made. NULL in tl_scenario means the OS threads of prim.h; a C++ scenario
 * passes std::thread. Slots run from 0 to the count given to init, minus one. */
typedef struct tl_spawner {
    int (*init)(size_t slots); /* once, before the first checkpoint; 0 = ok */
    int (*start)(size_t slot, void (*fn)(void *), void *arg);
    int (*join)(size_t slot);
} tl_spawner;

typedef struct tl_scenario {
    const char *name;                 /* TLSLEAK_SCENARIO, set by the build */
    int (*setup)(const tl_params *p); /* optional, before the first checkpoint; 0 = ok */
    void (*body)(void *params);       /* runs in each thread; params is a const tl_params * */
    const tl_spawner *spawner;        /* optional */
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

/* One line on stderr, then exit status 1 without running atexit handlers. */
void tl_fatal(const char *msg);

/* Never returns; for fault scenarios that hang in a destructor. */
void tl_block_forever(void);

/* The build's thread-exit key (TLSLEAK_TLS=pthread: prim key; c11: tss_create). One key per
 * program; the destructor runs at thread exit for a non-NULL value. */
int tl_key_create(void (*dtor)(void *value)); /* 0 = ok, -1 when the build has no key */
int tl_key_set(void *value);                  /* 0 = ok */
const char *tl_key_mechanism(void);           /* "none", "pthread", "c11" or "cxx" */

#ifdef __cplusplus
}
#endif

#endif
