/*
 * The thread churn loop: start a batch of at most `concurrency` threads, join them all,
 * repeat. Batches never straddle a checkpoint, so checkpoints land exactly on multiples of
 * `interval`. No sleeps: a thread-exit leak shows per thread, not per second.
 */
#include <stdlib.h>

#include "internal.h"

static prim_thread *slots;

static int prim_init_slots(size_t count) {
    slots = calloc(count, sizeof *slots);
    return slots != NULL ? 0 : -1;
}

static int prim_start(size_t slot, void (*fn)(void *), void *arg) {
    return prim_thread_create(&slots[slot], fn, arg);
}

static int prim_join(size_t slot) {
    return prim_thread_join(&slots[slot]);
}

const tl_spawner tl_prim_spawner = {prim_init_slots, prim_start, prim_join};

static uint64_t min_u64(uint64_t a, uint64_t b) {
    return a < b ? a : b;
}

int tl_churn(const tl_params *p, const tl_spawner *sp, void (*body)(void *), void *arg,
             void (*checkpoint)(uint64_t done), uint64_t *done) {
    uint64_t next_cp = p->interval;
    *done = 0;
    while (*done < p->threads) {
        uint64_t batch = min_u64(p->concurrency, min_u64(p->threads, next_cp) - *done);
        size_t started = 0;
        int failed = 0;
        while (started < batch && !failed) {
            if (sp->start(started, body, arg) == 0)
                started++;
            else
                failed = 1;
        }
        for (size_t i = 0; i < started; i++) {
            if (sp->join(i) != 0)
                failed = 1;
        }
        *done += started;
        if (failed)
            return -1;
        if (*done == next_cp || *done == p->threads) {
            checkpoint(*done);
            next_cp += p->interval;
        }
    }
    return 0;
}
