/*
 * The probe's shared file (docs/DESIGN.md "The probe"): native-endian 64-bit words that
 * libtlsleak_probe.so updates with atomic operations and the harness (its sampler,
 * probe/sampler.c, and harness/tlsleak/probe.py) reads while the program runs. A header, then
 * a table of per-process slots: every process of the command that finishes threads claims its
 * own. Change this layout, sampler.c, probe.py and DESIGN.md together.
 */
#ifndef TLSLEAK_PROBE_H
#define TLSLEAK_PROBE_H

#include <stdint.h>

#define TLSLEAK_PROBE_ENV "TLSLEAK_PROBE_FILE"    /* path of the shared file */
#define TLSLEAK_PROBE_MAGIC 0x45424f5250534c54ull /* the bytes "TLSPROBE", little-endian */
#define TLSLEAK_PROBE_VERSION 2u
#define TLSLEAK_PROBE_FILE_SIZE 65536u
#define TLSLEAK_PROBE_HEADER_WORDS 16u
#define TLSLEAK_PROBE_SLOT_WORDS 16u
#define TLSLEAK_PROBE_SLOTS                                                                        \
    ((TLSLEAK_PROBE_FILE_SIZE / 8u - TLSLEAK_PROBE_HEADER_WORDS) / TLSLEAK_PROBE_SLOT_WORDS)

/* flags: how `finished` is counted in this process. */
#define TLSLEAK_PROBE_FLAG_TEARDOWN 1u /* at the thread's last TLS destructor round */

/* Header word indexes (byte offset = 8 * index). */
enum tlsleak_probe_word {
    TLSLEAK_PROBE_W_MAGIC = 0,      /* TLSLEAK_PROBE_MAGIC once set up */
    TLSLEAK_PROBE_W_VERSION = 1,    /* TLSLEAK_PROBE_VERSION */
    TLSLEAK_PROBE_W_SLOTS = 2,      /* slots in the table (TLSLEAK_PROBE_SLOTS) */
    TLSLEAK_PROBE_W_SLOT_WORDS = 3, /* words per slot (TLSLEAK_PROBE_SLOT_WORDS) */
    TLSLEAK_PROBE_W_CLAIMED = 4,    /* slots handed out; may pass W_SLOTS (those got none) */
    TLSLEAK_PROBE_W_OVERFLOW = 5,   /* processes that found the table full: not counted */
    TLSLEAK_PROBE_W_GATE = 6,       /* 1: a process waits in the probe's constructor ... */
    TLSLEAK_PROBE_W_ATTACHED = 7    /* ... until this is 1: the sampler has sampled it */
};

/* How long a gated process waits for the sampler at most, in milliseconds. */
#define TLSLEAK_PROBE_GATE_MS 10000u

/* Slot word indexes, from the slot's first word; slot i starts at word
 * TLSLEAK_PROBE_HEADER_WORDS + i * TLSLEAK_PROBE_SLOT_WORDS. A slot is claimed by one process
 * (pid and start time) when it first starts a thread; an exec'd image of that process keeps
 * it, a forked child claims its own. `pid` is written last: 0 means not ready yet. */
enum tlsleak_probe_slot_word {
    TLSLEAK_PROBE_S_PID = 0,       /* the process publishing here */
    TLSLEAK_PROBE_S_START = 1,     /* its start time, clock ticks after boot (/proc stat 22) */
    TLSLEAK_PROBE_S_FLAGS = 2,     /* TLSLEAK_PROBE_FLAG_* */
    TLSLEAK_PROBE_S_STARTED = 3,   /* threads whose start routine began */
    TLSLEAK_PROBE_S_FINISHED = 4,  /* threads whose teardown is over (see flags) */
    TLSLEAK_PROBE_S_RETURNED = 5,  /* threads whose body ended (return or pthread_exit) */
    TLSLEAK_PROBE_S_DETACHED = 6,  /* threads created detached or passed to pthread_detach */
    TLSLEAK_PROBE_S_T_NS = 7,      /* CLOCK_MONOTONIC ns of the last change of a count */
    TLSLEAK_PROBE_S_UNWRAPPED = 8, /* threads started without the wrapper (no free relay) */
    TLSLEAK_PROBE_S_IMAGES = 9,    /* program images that published here (1, +1 per exec) */
    TLSLEAK_PROBE_S_PARENT = 10,   /* its parent's pid when it claimed the slot */
    TLSLEAK_PROBE_S_COUNT = 11
};

#endif
