/*
 * The thread churn loop: start a batch of at most `concurrency` threads, wait for them all to
 * end, repeat. Batches never straddle a checkpoint, so checkpoints land exactly on multiples of
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

const tl_spawner tl_prim_spawner = {prim_init_slots, prim_start, prim_join, NULL};

void tl_thread_exit(void) {
    prim_thread_exit();
}

static uint64_t min_u64(uint64_t a, uint64_t b) {
    return a < b ? a : b;
}

static void (*churn_body)(tl_thread *t);

static void run_body(void *arg) {
    churn_body(arg);
}

int tl_churn(const tl_params *p, const tl_scenario *s, const tl_spawner *sp, tl_thread *threads,
             void (*checkpoint)(uint64_t done), uint64_t *done) {
    uint64_t next_cp = p->interval;
    churn_body = s->body;
    *done = 0;
    while (*done < p->threads) {
        size_t batch = (size_t)min_u64(p->concurrency, min_u64(p->threads, next_cp) - *done);
        size_t started = 0;
        int failed = 0;
        if (s->before_batch != NULL)
            s->before_batch(batch);
        while (started < batch && !failed) {
            if (sp->start(started, run_body, &threads[started]) == 0)
                started++;
            else
                failed = 1;
        }
        for (size_t i = 0; i < started; i++) {
            if (sp->join(i) != 0)
                failed = 1;
        }
        if (s->after_batch != NULL)
            s->after_batch(started);
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
