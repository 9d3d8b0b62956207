/*
 * The probe's shared file (docs/DESIGN.md section 5): one page of native-endian 64-bit words
 * that libtlsleak_probe.so updates with atomic operations and the harness reads while the
 * program runs (harness/tlsleak/probe.py mirrors this layout; change both together).
 */
#ifndef TLSLEAK_PROBE_H
#define TLSLEAK_PROBE_H

#include <stdint.h>

#define TLSLEAK_PROBE_ENV "TLSLEAK_PROBE_FILE"    /* path of the shared file */
#define TLSLEAK_PROBE_MAGIC 0x45424f5250534c54ull /* the bytes "TLSPROBE", little-endian */
#define TLSLEAK_PROBE_VERSION 1u
#define TLSLEAK_PROBE_FILE_SIZE 4096u

/* flags: how `finished` is counted in this process. */
#define TLSLEAK_PROBE_FLAG_TEARDOWN 1u /* at the thread's last TLS destructor round */

/* Word indexes (byte offset = 8 * index). */
enum tlsleak_probe_word {
    TLSLEAK_PROBE_W_MAGIC = 0,     /* TLSLEAK_PROBE_MAGIC once set up */
    TLSLEAK_PROBE_W_VERSION = 1,   /* TLSLEAK_PROBE_VERSION */
    TLSLEAK_PROBE_W_PID = 2,       /* the process that publishes here; 0 = nobody yet */
    TLSLEAK_PROBE_W_FLAGS = 3,     /* TLSLEAK_PROBE_FLAG_* */
    TLSLEAK_PROBE_W_STARTED = 4,   /* threads whose start routine began */
    TLSLEAK_PROBE_W_FINISHED = 5,  /* threads whose teardown is over (see flags) */
    TLSLEAK_PROBE_W_RETURNED = 6,  /* threads whose body ended (return or pthread_exit) */
    TLSLEAK_PROBE_W_DETACHED = 7,  /* threads created detached or passed to pthread_detach */
    TLSLEAK_PROBE_W_T_NS = 8,      /* CLOCK_MONOTONIC ns of the last change of a count */
    TLSLEAK_PROBE_W_UNWRAPPED = 9, /* threads started without the wrapper (no free slot) */
    TLSLEAK_PROBE_W_REFUSED = 10,  /* other processes that found the file taken */
    TLSLEAK_PROBE_W_COUNT = 11
};

#endif
